# Production mode, sourced by scripts/setup and scripts/test after lib.sh: gunicorn, RQ workers, the scheduler,
# socketio and nginx in front of them, one supervisor group per bench and site under Debian's supervisord
# (its /etc/supervisor/conf.d includes our file, written under the bench). No systemd needed.
# Settings (environment variables, all optional; lib.sh has the others):
#   OS_PORT              nginx, the product's address                         (default 8000)
#   OS_GUNICORN_PORT     gunicorn on 127.0.0.1, behind nginx                   (default OS_PORT + 1)
#   OS_SOCKETIO_PORT     socketio on 127.0.0.1, behind nginx at /socket.io     (default 9000)
#   OS_GUNICORN_WORKERS  web worker processes              (default: 2 x cores + 1, at most 1 per 300 MB of RAM / 4)
#   OS_GUNICORN_THREADS  threads a web worker (gthread; 1: sync workers): a request waiting for MariaDB or a
#                        row lock doesn't hold a whole worker                 (default 4)
#   OS_GUNICORN_SESSIONS 1: each web worker a session of its own to Linux's scheduler (see README, Load) (default 0)
#   OS_LONG_WORKERS      workers of the long queue (imports, recomputes)       (default 1)
#   OS_BACKUP_CRON       when to back up the site with its files, cron syntax  (default "17 */6 * * *"; "off": none)
#   OS_BACKUP_KEEP       how many backups the site keeps                       (default 8: two days)

OS_GUNICORN_PORT=${OS_GUNICORN_PORT:-$((OS_PORT + 1))}
OS_LONG_WORKERS=${OS_LONG_WORKERS:-1}
OS_GUNICORN_THREADS=${OS_GUNICORN_THREADS:-4}
OS_BACKUP_CRON=${OS_BACKUP_CRON:-17 */6 * * *}
OS_BACKUP_KEEP=${OS_BACKUP_KEEP:-8}
SUPERVISOR_CONF=/etc/supervisor/supervisord.conf
# an import file of 100 MB, with room for the multipart envelope
MAX_UPLOAD_MB=110

# One supervisor group per bench and site, so two benches (or a bench's product and test sites) never clash.
production_group() { # site
	echo "opportunity-suite-$(python3 -c 'import hashlib,sys; print(hashlib.sha1(sys.argv[1].encode()).hexdigest()[:8])' \
		"$(cd "$OS_BENCH_DIR" && pwd -P)|$1")"
}
production_dir() { echo "$OS_BENCH_DIR/config/production/$1"; } # site

# Gunicorn's own rule (and bench's): 2 x cores + 1 sync workers, since a Frappe request spends most of its
# time waiting for MariaDB and Redis. Each worker holds ~150-250 MB once warm, so on a small machine the
# RAM caps it: at most a quarter of the memory, 300 MB a worker.
gunicorn_workers() {
	if [ -n "${OS_GUNICORN_WORKERS:-}" ]; then echo "$OS_GUNICORN_WORKERS"; return; fi
	python3 -c 'import os
cores = os.cpu_count() or 1
mem_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
print(max(2, min(2 * cores + 1, mem_mb // 4 // 300)))'
}

# The worker class: gthread with OS_GUNICORN_THREADS threads (a thread waiting for MariaDB lets another run),
# or gunicorn's sync worker for 1 thread (takes a connection only when idle). gthread keeps gunicorn's default
# worker-connections: a limit as low as the threads hangs a worker for good once every slot holds a connection
# accepted but not read yet (it stops polling; gunicorn#3407, seen here with 1 thread a worker).
gunicorn_worker_args() { # dir
	local sessions=""
	[ "${OS_GUNICORN_SESSIONS:-0}" = 1 ] && sessions=" -c $1/gunicorn.conf.py"
	if [ "$OS_GUNICORN_THREADS" -le 1 ]; then echo "--worker-class sync$sessions"; return; fi
	echo "--worker-class gthread --threads $OS_GUNICORN_THREADS$sessions"
}
gunicorn_worker_note() {
	if [ "$OS_GUNICORN_THREADS" -le 1 ]; then echo "Sync workers: one request at a time each."; return; fi
	echo "gthread, $OS_GUNICORN_THREADS threads a worker; worker-connections left at gunicorn's default (gunicorn#3407)."
}

# nginx and supervisor from the distribution. A package's install must not start Debian's own nginx on
# port 80: policy-rc.d says no to service starts for the duration of the install (Docker images have one).
ensure_production_packages() {
	local missing=()
	command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)
	command -v supervisord >/dev/null || [ -x /usr/bin/supervisord ] || missing+=(supervisor)
	command -v cron >/dev/null || [ -x /usr/sbin/cron ] || missing+=(cron)
	[ ${#missing[@]} -eq 0 ] && return 0
	local policy=/usr/sbin/policy-rc.d made=""
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null && $SUDO chmod +x "$policy" && made=1
	fi
	apt_install "${missing[@]}"
	[ -z "$made" ] || $SUDO rm -f "$policy"
}

supervisorctl_do() { $SUDO supervisorctl -c "$SUPERVISOR_CONF" "$@"; }

ensure_supervisord() {
	supervisorctl_do pid >/dev/null 2>&1 && supervisorctl_do pid | grep -qx '[0-9]*' && return 0
	say "starting supervisord ($SUPERVISOR_CONF)"
	$SUDO mkdir -p /var/log/supervisor
	$SUDO supervisord -c "$SUPERVISOR_CONF" || die "supervisord did not start" "run 'supervisord -n -c $SUPERVISOR_CONF' to see why"
	local i
	for i in $(seq 1 40); do supervisorctl_do pid 2>/dev/null | grep -qx '[0-9]*' && return 0; sleep 0.25; done
	die "supervisord does not answer on its socket" "look at /var/log/supervisor/supervisord.log"
}

ensure_cron() {
	pgrep -x cron >/dev/null && return 0
	[ -d /run/systemd/system ] && $SUDO systemctl start cron 2>/dev/null && return 0
	say "starting cron (for the scheduled backups)"
	$SUDO /usr/sbin/cron || die "cron did not start" "start your system's cron daemon"
}

# The product site's settings for production: no developer mode, uploads up to an import of 100 MB,
# backups kept (Frappe's daily clean-up keeps `backup_limit` FILES, and a backup with files is 4 of them).
production_site_settings() { # site
	local site=$1
	bench_do --site "$site" execute opportunity_suite.setup_site.production_settings \
		--kwargs "{'max_file_size': $((MAX_UPLOAD_MB * 1024 * 1024)), 'backup_limit': $((4 * OS_BACKUP_KEEP))}" >/dev/null ||
		die "could not apply the production settings to $site" "run 'bench --site $site execute opportunity_suite.setup_site.production_settings' in $OS_BENCH_DIR to see the error"
}

write_supervisor_conf() { # site group dir
	local site=$1 group=$2 dir=$3 py="$OS_BENCH_DIR/env/bin/python" logs="$OS_BENCH_DIR/logs" workers
	workers=$(gunicorn_workers)
	local user
	user=$(id -un)
	# supervisor rotates every program's log under the bench's logs/: 10 MB, 5 kept
	local common="user=$user
autostart=true
autorestart=true
startsecs=2
startretries=20
redirect_stderr=true
stdout_logfile_maxbytes=10MB
stdout_logfile_backups=5
stopasgroup=true
killasgroup=true
environment=PATH=\"$OS_BENCH_DIR/env/bin:/usr/local/bin:/usr/bin:/bin\",FRAPPE_BENCH_ROOT=\"$OS_BENCH_DIR\""
	# OS_GUNICORN_SESSIONS=1: each web worker a session of its own (Linux's autogroup scheduling shares a busy
	# CPU between sessions, not processes: supervisor's programs are one session)
	printf '%s\n' "import os" "" "" "def post_fork(server, worker):" "	os.setsid()" >"$dir/gunicorn.conf.py"
	cat >"$dir/supervisor.conf.new" <<CONF
; written by opportunity_suite's scripts/setup for $site; included from /etc/supervisor/conf.d
[group:$group]
programs=$group-web,$group-socketio,$group-schedule,$group-worker-short,$group-worker-long,$group-nginx

[program:$group-web]
; graceful timeout below stopwaitsecs: no orphaned gunicorn workers. $(gunicorn_worker_note)
command=$OS_BENCH_DIR/env/bin/gunicorn -b 127.0.0.1:$OS_GUNICORN_PORT -w $workers $(gunicorn_worker_args "$dir") --max-requests 5000 --max-requests-jitter 500 -t 120 --graceful-timeout 30 --worker-tmp-dir /dev/shm frappe.app:application --preload
directory=$OS_BENCH_DIR/sites
stopwaitsecs=40
stdout_logfile=$logs/$group-web.log
$common

[program:$group-socketio]
command=node $OS_BENCH_DIR/apps/frappe/socketio.js
directory=$OS_BENCH_DIR
stdout_logfile=$logs/$group-socketio.log
$common,FRAPPE_SOCKETIO_PORT="$OS_SOCKETIO_PORT"

[program:$group-schedule]
command=$py -m frappe.utils.bench_helper frappe schedule
directory=$OS_BENCH_DIR/sites
stdout_logfile=$logs/$group-schedule.log
$common

; short and default jobs (alert e-mails, the e-mail queue) never wait behind an import
[program:$group-worker-short]
command=$py -m frappe.utils.bench_helper frappe worker --queue short,default
directory=$OS_BENCH_DIR/sites
stopwaitsecs=360
stdout_logfile=$logs/$group-worker-short.log
$common

; imports and recomputes; idle, it helps with the other queues
[program:$group-worker-long]
command=$py -m frappe.utils.bench_helper frappe worker --queue long,default,short
process_name=%(program_name)s-%(process_num)d
numprocs=$OS_LONG_WORKERS
directory=$OS_BENCH_DIR/sites
stopwaitsecs=1560
stdout_logfile=$logs/$group-worker-long.log
$common

[program:$group-nginx]
command=/usr/sbin/nginx -e stderr -p $dir -c $dir/nginx.conf
stdout_logfile=$logs/$group-nginx.log
$common
CONF
	mv "$dir/supervisor.conf.new" "$dir/supervisor.conf"
}

# nginx runs under supervisor (daemon off), with a main configuration of its own: it reads the bench's
# files as the bench's user, and Debian's default site (port 80) is never loaded.
write_nginx_conf() { # site group dir
	local site=$1 group=$2 dir=$3 user_line=""
	[ "$(id -u)" -eq 0 ] && user_line="user $(id -un);"
	mkdir -p "$dir/tmp"
	cat >"$dir/nginx.conf.new" <<CONF
# written by opportunity_suite's scripts/setup for $site (under supervisor: $group-nginx)
$user_line
daemon off;
worker_processes auto;
pid $dir/nginx.pid;
error_log stderr warn;
events { worker_connections 1024; }

http {
	include /etc/nginx/mime.types;
	default_type application/octet-stream;
	access_log /dev/stdout;
	client_body_temp_path $dir/tmp/body;
	proxy_temp_path $dir/tmp/proxy;
	fastcgi_temp_path $dir/tmp/fastcgi;
	uwsgi_temp_path $dir/tmp/uwsgi;
	scgi_temp_path $dir/tmp/scgi;
	sendfile on;
	tcp_nopush on;
	server_tokens off;

	# a connection per request to gunicorn (as bench's own template): an idle kept-alive connection would hold
	# one of a worker's few connection slots, and gunicorn closing one as nginx reuses it answers 502
	upstream $group-frappe { server 127.0.0.1:$OS_GUNICORN_PORT fail_timeout=0; }
	upstream $group-socketio { server 127.0.0.1:$OS_SOCKETIO_PORT fail_timeout=0; }

	server {
		listen $OS_PORT;
		server_name _;
		root $OS_BENCH_DIR/sites;

		proxy_buffer_size 128k;
		proxy_buffers 4 256k;
		proxy_busy_buffers_size 256k;
		add_header X-Frame-Options "SAMEORIGIN";
		add_header X-Content-Type-Options nosniff;
		add_header Referrer-Policy "same-origin, strict-origin-when-cross-origin";

		keepalive_timeout 15;
		# an import file of 100 MB (Frappe's max_file_size is set to the same)
		client_max_body_size ${MAX_UPLOAD_MB}m;
		client_body_buffer_size 16k;

		gzip on;
		gzip_comp_level 5;
		gzip_min_length 256;
		gzip_proxied any;
		gzip_vary on;
		gzip_types application/javascript application/json application/xml application/xhtml+xml
			image/svg+xml image/x-icon text/css text/plain text/csv text/javascript font/ttf font/woff;

		# built assets carry their hash in their names: cached for a year
		location /assets {
			try_files \$uri =404;
			add_header Cache-Control "public, max-age=31536000";
			access_log off;
		}

		# private files: Frappe checks the permission, then hands the sending to nginx
		location ~ ^/protected/(.*) {
			internal;
			try_files /$site/\$1 =404;
		}

		location /socket.io {
			proxy_http_version 1.1;
			proxy_set_header Upgrade \$http_upgrade;
			proxy_set_header Connection "upgrade";
			proxy_set_header X-Frappe-Site-Name $site;
			proxy_set_header Origin \$scheme://\$http_host;
			proxy_set_header Host \$host;
			proxy_read_timeout 3600;
			proxy_pass http://$group-socketio;
		}

		location / {
			rewrite ^(.+)/\$ \$1 permanent;
			rewrite ^(.+)/index\.html\$ \$1 permanent;
			rewrite ^(.+)\.html\$ \$1 permanent;
			location ~* ^/files/.*.(htm|html|svg|xml) {
				add_header Content-disposition "attachment";
				try_files /$site/public/\$uri @webserver;
			}
			try_files /$site/public/\$uri @webserver;
		}

		location @webserver {
			proxy_set_header X-Forwarded-For \$remote_addr;
			proxy_set_header X-Forwarded-Proto \$scheme;
			proxy_set_header X-Frappe-Site-Name $site;
			proxy_set_header Host \$host;
			proxy_set_header X-Use-X-Accel-Redirect True;
			proxy_read_timeout 120;
			proxy_redirect off;
			proxy_pass http://$group-frappe;
		}
	}
}
CONF
	cmp -s "$dir/nginx.conf.new" "$dir/nginx.conf" || NGINX_CHANGED=1
	mv "$dir/nginx.conf.new" "$dir/nginx.conf"
	/usr/sbin/nginx -t -q -e stderr -p "$dir" -c "$dir/nginx.conf" 2>"$dir/nginx-test.log" ||
		die "nginx refuses its configuration $dir/nginx.conf: $(cat "$dir/nginx-test.log")" "is port $OS_PORT valid? fix and re-run"
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Starts (or brings up to date) the production processes for `site`; returns once nginx answers with
# gunicorn's ping and socketio listens.
production_up() { # site
	local site=$1 group dir link
	group=$(production_group "$site")
	dir=$(production_dir "$site")
	link="/etc/supervisor/conf.d/$group.conf"
	ensure_production_packages
	ensure_supervisord
	mkdir -p "$dir" "$OS_BENCH_DIR/logs"
	local running=""
	supervisorctl_do status "$group:*" 2>/dev/null | grep -q RUNNING && running=1
	if [ -z "$running" ]; then
		local port
		for port in "$OS_PORT" "$OS_GUNICORN_PORT" "$OS_SOCKETIO_PORT"; do
			port_free "$port" || die "port $port is taken" "stop what listens there or choose other ports (OS_PORT, OS_GUNICORN_PORT, OS_SOCKETIO_PORT)"
		done
	fi
	NGINX_CHANGED=""
	write_nginx_conf "$site" "$group" "$dir"
	write_supervisor_conf "$site" "$group" "$dir"
	[ "$(readlink "$link" 2>/dev/null)" = "$dir/supervisor.conf" ] || $SUDO ln -sfn "$dir/supervisor.conf" "$link"
	supervisorctl_do reread >/dev/null
	supervisorctl_do update "$group" >/dev/null
	# a changed nginx configuration alone (supervisor's file unchanged) needs nginx restarted
	[ -z "$running" ] || [ -z "$NGINX_CHANGED" ] || supervisorctl_do restart "$group:$group-nginx" >/dev/null
	supervisorctl_do start "$group:*" >/dev/null || true
	# each ping bounded too: a hung worker behind nginx would hold one for nginx's whole upstream timeout
	local deadline=$((SECONDS + 90))
	while [ "$SECONDS" -lt "$deadline" ]; do
		if [ "$(curl -s -m 10 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$OS_PORT/api/method/ping")" = 200 ] &&
			! port_free "$OS_SOCKETIO_PORT"; then
			return 0
		fi
		sleep 0.5
	done
	supervisorctl_do status "$group:*" >&2 || true
	die "the production stack did not answer on http://127.0.0.1:$OS_PORT within 90 s" \
		"read the logs in $OS_BENCH_DIR/logs/$group-*.log"
}

production_down() { # site
	local site=$1 group
	group=$(production_group "$site")
	supervisorctl_do pid >/dev/null 2>&1 || return 0
	if supervisorctl_do status "$group:*" >/dev/null 2>&1 || supervisorctl_do avail 2>/dev/null | grep -q "^$group:"; then
		say "stopping the production processes of $site ($group)"
		supervisorctl_do stop "$group:*" >/dev/null || true
	fi
	$SUDO rm -f "/etc/supervisor/conf.d/$group.conf"
	supervisorctl_do reread >/dev/null || true
	supervisorctl_do update "$group" >/dev/null 2>&1 || true
}

production_status() { # site
	local site=$1 group
	group=$(production_group "$site")
	say "production: http://localhost:$OS_PORT (nginx) -> gunicorn 127.0.0.1:$OS_GUNICORN_PORT ($(gunicorn_workers) workers)," \
		"socketio 127.0.0.1:$OS_SOCKETIO_PORT at /socket.io; RQ workers: short+default x1, long x$OS_LONG_WORKERS; scheduler;" \
		"site $site; supervisor group $group ('supervisorctl status $group:*'); logs $OS_BENCH_DIR/logs/$group-*.log"
	supervisorctl_do status "$group:*" | sed 's/^/    /' || true
}

# `bench --site … backup --with-files` from cron (see README: why cron and why every 6 h).
ensure_backup_schedule() { # site
	local site=$1 group file
	group=$(production_group "$site")
	file="/etc/cron.d/$group"
	if [ "$OS_BACKUP_CRON" = off ]; then $SUDO rm -f "$file"; return 0; fi
	ensure_cron
	local bench_bin
	bench_bin=$(command -v bench)
	local want="# written by opportunity_suite's scripts/setup: backups of $site with its files
PATH=$(dirname "$bench_bin"):/usr/local/bin:/usr/bin:/bin
$OS_BACKUP_CRON $(id -un) cd $OS_BENCH_DIR && bench --site $site backup --with-files >>$OS_BENCH_DIR/logs/backup.log 2>&1"
	[ "$(cat "$file" 2>/dev/null)" = "$want" ] || printf '%s\n' "$want" | $SUDO tee "$file" >/dev/null
}

remove_backup_schedule() { # site
	$SUDO rm -f "/etc/cron.d/$(production_group "$1")"
}
