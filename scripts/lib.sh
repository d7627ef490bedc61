# Shared by scripts/setup and scripts/test: every step is idempotent and says how to fix what failed.
# Settings (environment variables, all optional):
#   OS_BENCH_DIR        the bench this checkout is linked into   (default ~/opportunity-suite-bench)
#   OS_SITE             the product's site                       (default opportunity.localhost)
#   OS_TEST_SITE        the tests' site                          (default test.opportunity.localhost)
#   OS_PORT             web server port                          (default 8000)
#   OS_SOCKETIO_PORT    socketio port                            (default 9000)
#   OS_REDIS_PORT       the bench's own Redis on 127.0.0.1       (default: a port from 11000-15999 derived
#                       from the bench's path, so that two benches never share Redis: Frappe keeps some
#                       keys, such as the built assets' names, shared across the sites of one Redis)
#   OS_DB_PORT          MariaDB port on 127.0.0.1                (default 3306)
#   OS_DB_ROOT_USER / OS_DB_ROOT_PASSWORD  an existing MariaDB admin account; without them the
#                       scripts create one through the local root socket (Debian's default)
#   OS_ADMIN_PASSWORD   the sites' Administrator password        (default admin)
#   OS_SMTP_HOST, OS_SMTP_PORT (587), OS_SMTP_USER, OS_SMTP_PASSWORD, OS_MAIL_FROM  the product site's
#                       outgoing e-mail account (scripts/setup; none without OS_SMTP_HOST)
#   OS_FRAPPE_BRANCH    Frappe branch for a new bench            (default version-15)

set -euo pipefail

APP_NAME=opportunity_suite
APP_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
OS_BENCH_DIR=${OS_BENCH_DIR:-$HOME/opportunity-suite-bench}
OS_SITE=${OS_SITE:-opportunity.localhost}
OS_TEST_SITE=${OS_TEST_SITE:-test.opportunity.localhost}
OS_PORT=${OS_PORT:-8000}
OS_SOCKETIO_PORT=${OS_SOCKETIO_PORT:-9000}
OS_REDIS_PORT=${OS_REDIS_PORT:-$(python3 -c 'import hashlib, os, sys
print(11000 + int(hashlib.sha1(os.path.realpath(sys.argv[1]).encode()).hexdigest(), 16) % 5000)' "$OS_BENCH_DIR")}
OS_DB_PORT=${OS_DB_PORT:-3306}
OS_ADMIN_PASSWORD=${OS_ADMIN_PASSWORD:-admin}
OS_FRAPPE_BRANCH=${OS_FRAPPE_BRANCH:-version-15}
OS_STATE_DIR=${OS_STATE_DIR:-$HOME/.config/opportunity-suite}

say() { printf '\033[1m[opportunity-suite]\033[0m %s\n' "$*"; }
die() {
	printf '\033[31m[opportunity-suite] FAILED:\033[0m %s\n' "$1" >&2
	[ $# -gt 1 ] && printf '  how to fix: %s\n' "$2" >&2
	exit 1
}

if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi

# ---------------------------------------------------------------- OS packages
apt_install() { # packages...
	command -v apt-get >/dev/null || die "missing packages: $*" "install them with your system's package manager"
	if [ -z "${_OS_APT_UPDATED:-}" ]; then
		$SUDO apt-get update -qq || die "apt-get update failed" "check your network and apt sources"
		_OS_APT_UPDATED=1
	fi
	say "installing OS packages: $*"
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null ||
		die "apt-get install $* failed" "run 'sudo apt-get install $*' and read its error"
}

ensure_os_packages() { # extra packages...
	local missing=()
	[ -x /usr/sbin/mariadbd ] || [ -x /usr/sbin/mysqld ] || missing+=(mariadb-server)
	command -v mariadb >/dev/null || command -v mysql >/dev/null || missing+=(mariadb-client)
	command -v redis-server >/dev/null || missing+=(redis-server)
	command -v git >/dev/null || missing+=(git)
	command -v node >/dev/null || missing+=(nodejs)
	command -v npm >/dev/null || missing+=(npm)
	command -v wkhtmltopdf >/dev/null || missing+=(wkhtmltopdf)
	command -v start-stop-daemon >/dev/null || missing+=(dpkg)
	local p
	for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
	[ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
	local major
	major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
	[ "$major" -ge 18 ] || die "Node.js 18 or newer is needed (found $(node --version 2>/dev/null || echo none))" \
		"install Node.js 18+ (e.g. from your distribution or nodesource) and re-run"
	if ! command -v yarn >/dev/null; then
		say "installing yarn 1"
		$SUDO npm install -g yarn@1 >/dev/null || die "npm install -g yarn@1 failed" "install yarn 1 by hand"
	fi
	if ! command -v bench >/dev/null; then
		say "installing the bench CLI (frappe-bench)"
		python3 -m pip install --quiet frappe-bench 2>/dev/null ||
			{ command -v pipx >/dev/null || apt_install pipx; pipx install frappe-bench >/dev/null; } ||
			die "could not install frappe-bench" "run 'pipx install frappe-bench' and re-run"
		export PATH="$HOME/.local/bin:$PATH"
		command -v bench >/dev/null || die "bench is installed but not on PATH" "add ~/.local/bin to PATH"
	fi
}

# ---------------------------------------------------------------- MariaDB
mariadb_conf_dir() {
	for d in /etc/mysql/mariadb.conf.d /etc/mysql/conf.d /etc/my.cnf.d; do
		[ -d "$d" ] && { echo "$d"; return; }
	done
	die "no MariaDB configuration folder found" "is mariadb-server installed?"
}

db_ping() { mariadb-admin --protocol=tcp -h 127.0.0.1 -P "$OS_DB_PORT" ping >/dev/null 2>&1; }

start_mariadb() {
	if [ -d /run/systemd/system ] && [ "$OS_DB_PORT" = 3306 ]; then
		$SUDO systemctl start mariadb || true
	else
		$SUDO mkdir -p /run/mysqld && $SUDO chown mysql:mysql /run/mysqld
		$SUDO start-stop-daemon --start --background --quiet --exec /usr/sbin/mariadbd -- \
			--user=mysql --port="$OS_DB_PORT" || true
	fi
	local i
	for i in $(seq 1 60); do db_ping && return 0; sleep 0.5; done
	die "MariaDB did not start on 127.0.0.1:$OS_DB_PORT" "look at /var/log/mysql/error.log or run 'sudo mariadbd --user=mysql' to see why"
}

stop_mariadb() {
	if [ -d /run/systemd/system ] && [ "$OS_DB_PORT" = 3306 ]; then
		$SUDO systemctl stop mariadb || true
	else
		$SUDO mariadb-admin shutdown 2>/dev/null || $SUDO pkill -x mariadbd || true
		local i
		for i in $(seq 1 60); do pgrep -x mariadbd >/dev/null || return 0; sleep 0.5; done
	fi
}

ensure_mariadb() {
	local conf
	conf="$(mariadb_conf_dir)/99-opportunity-suite.cnf"
	local want
	want=$(printf '%s\n' "# written by opportunity_suite's scripts: what Frappe needs" "[mysqld]" \
		"character-set-server = utf8mb4" "collation-server = utf8mb4_unicode_ci" \
		"character-set-client-handshake = FALSE" "bind-address = 127.0.0.1" "" \
		"[mysql]" "default-character-set = utf8mb4")
	local changed=""
	if [ "$(cat "$conf" 2>/dev/null)" != "$want" ]; then
		say "configuring MariaDB for Frappe (utf8mb4, utf8mb4_unicode_ci): $conf"
		printf '%s\n' "$want" | $SUDO tee "$conf" >/dev/null
		changed=1
	fi
	if db_ping; then
		if [ -n "$changed" ]; then say "restarting MariaDB to apply its configuration"; stop_mariadb; start_mariadb; fi
	else
		say "starting MariaDB on 127.0.0.1:$OS_DB_PORT"
		start_mariadb
	fi
	ensure_db_admin
	local coll
	coll=$(db_sql "SELECT @@collation_server")
	[ "$coll" = utf8mb4_unicode_ci ] || die "MariaDB's collation is $coll, not utf8mb4_unicode_ci" \
		"another configuration file overrides $conf: remove its collation-server line and restart MariaDB"
}

# An admin account for bench (new-site, drop-site). Debian's root logs in through the unix socket only,
# and bench connects over TCP, so we make our own account once and keep its password outside the repo.
ensure_db_admin() {
	if [ -n "${OS_DB_ROOT_PASSWORD:-}" ]; then
		DB_ROOT_USER=${OS_DB_ROOT_USER:-root}
		DB_ROOT_PASSWORD=$OS_DB_ROOT_PASSWORD
	else
		DB_ROOT_USER=opportunity_suite_admin
		mkdir -p "$OS_STATE_DIR" && chmod 700 "$OS_STATE_DIR"
		local pwfile="$OS_STATE_DIR/db-admin-password"
		[ -s "$pwfile" ] || { python3 -c 'import secrets; print(secrets.token_hex(16))' >"$pwfile"; chmod 600 "$pwfile"; }
		DB_ROOT_PASSWORD=$(cat "$pwfile")
		if ! db_sql "SELECT 1" >/dev/null 2>&1; then
			say "creating the MariaDB account $DB_ROOT_USER for bench"
			local h sql=""
			for h in localhost 127.0.0.1; do
				sql+="CREATE USER IF NOT EXISTS '$DB_ROOT_USER'@'$h' IDENTIFIED BY '$DB_ROOT_PASSWORD';"
				sql+="ALTER USER '$DB_ROOT_USER'@'$h' IDENTIFIED BY '$DB_ROOT_PASSWORD';"
				sql+="GRANT ALL PRIVILEGES ON *.* TO '$DB_ROOT_USER'@'$h' WITH GRANT OPTION;"
			done
			$SUDO mariadb -u root -e "$sql FLUSH PRIVILEGES;" 2>/dev/null ||
				die "could not create a MariaDB admin account through the root socket" \
					"set OS_DB_ROOT_USER and OS_DB_ROOT_PASSWORD to an existing MariaDB admin account and re-run"
		fi
	fi
	db_sql "SELECT 1" >/dev/null || die "cannot log into MariaDB as $DB_ROOT_USER over TCP" \
		"check OS_DB_ROOT_USER / OS_DB_ROOT_PASSWORD"
}

db_sql() { # sql -> first column of output, no headers
	MYSQL_PWD="$DB_ROOT_PASSWORD" mariadb --protocol=tcp -h 127.0.0.1 -P "$OS_DB_PORT" -u "$DB_ROOT_USER" -N -B -e "$1"
}

# ---------------------------------------------------------------- Redis
ensure_redis() {
	if [ "$(redis-cli -h 127.0.0.1 -p "$OS_REDIS_PORT" ping 2>/dev/null)" != PONG ]; then
		say "starting Redis on 127.0.0.1:$OS_REDIS_PORT"
		redis-server --port "$OS_REDIS_PORT" --bind 127.0.0.1 --daemonize yes --save "" --appendonly no \
			--logfile "/tmp/opportunity-suite-redis-$OS_REDIS_PORT.log" >/dev/null ||
			die "redis-server did not start" "look at /tmp/opportunity-suite-redis-$OS_REDIS_PORT.log"
		local i
		for i in $(seq 1 40); do
			[ "$(redis-cli -h 127.0.0.1 -p "$OS_REDIS_PORT" ping 2>/dev/null)" = PONG ] && return 0
			sleep 0.25
		done
		die "Redis is not answering on 127.0.0.1:$OS_REDIS_PORT" "is the port taken? set OS_REDIS_PORT to a free one"
	fi
}

# ---------------------------------------------------------------- bench
bench_do() { (cd "$OS_BENCH_DIR" && bench "$@"); }
bench_py() { "$OS_BENCH_DIR/env/bin/python" "$@"; }

ensure_bench() {
	if [ -d "$OS_BENCH_DIR" ] && [ ! -d "$OS_BENCH_DIR/apps/frappe" ]; then
		die "$OS_BENCH_DIR exists but holds no Frappe (an interrupted 'bench init'?)" \
			"remove it ('rm -rf $OS_BENCH_DIR') or set OS_BENCH_DIR to another folder, and re-run"
	fi
	if [ ! -d "$OS_BENCH_DIR/apps/frappe" ]; then
		say "creating the bench $OS_BENCH_DIR (Frappe $OS_FRAPPE_BRANCH; takes a few minutes)"
		local scratch log
		scratch=$(mktemp -d)
		log="$scratch/bench-init.log"
		# bench refuses to run as root unless the current folder's sites/common_site_config.json allows it
		mkdir -p "$scratch/sites"
		[ "$(id -u)" -eq 0 ] && echo '{"frappe_user": "root"}' >"$scratch/sites/common_site_config.json"
		(cd "$scratch" && bench init --frappe-branch "$OS_FRAPPE_BRANCH" --skip-redis-config-generation \
			--no-backups "$OS_BENCH_DIR") >"$log" 2>&1 || {
			tail -20 "$log" >&2
			rm -rf "$OS_BENCH_DIR"
			die "bench init failed (log: $log)" "read the log above; fix the cause and re-run"
		}
	fi
	# Frappe v15 pins a Google client that imports pkg_resources, which setuptools >= 81 no longer ships
	bench_py -c 'import pkg_resources' >/dev/null 2>&1 ||
		bench_py -m pip install --quiet "setuptools<81" || die "could not install setuptools<81 in the bench"
	write_common_site_config
}

write_common_site_config() {
	bench_py - "$OS_BENCH_DIR/sites/common_site_config.json" <<EOF
import json, sys
path = sys.argv[1]
with open(path) as f:
	conf = json.load(f)
redis = "redis://127.0.0.1:$OS_REDIS_PORT"
conf.update({
	"redis_cache": redis, "redis_queue": redis, "redis_socketio": redis,
	"webserver_port": $OS_PORT, "socketio_port": $OS_SOCKETIO_PORT,
	"db_host": "127.0.0.1", "db_port": $OS_DB_PORT,
	"root_login": "$DB_ROOT_USER", "root_password": "$DB_ROOT_PASSWORD",
})
with open(path, "w") as f:
	json.dump(conf, f, indent=1, sort_keys=True)
EOF
}

# apps/opportunity_suite is a link to this checkout, installed editable, so edits are live.
ensure_app_linked() {
	local link="$OS_BENCH_DIR/apps/$APP_NAME"
	if [ -e "$link" ] && [ ! -L "$link" ]; then
		die "$link is a folder, not a link to this checkout" "move it away and re-run"
	fi
	[ "$(readlink -f "$link" 2>/dev/null)" = "$APP_DIR" ] || { say "linking $APP_DIR into the bench"; ln -sfn "$APP_DIR" "$link"; }
	local installed
	installed=$(cd / && bench_py -c "import $APP_NAME, os; print(os.path.dirname(os.path.dirname(os.path.realpath($APP_NAME.__file__))))" 2>/dev/null || true)
	if [ "$installed" != "$APP_DIR" ]; then
		say "installing $APP_NAME (editable) into the bench's Python"
		bench_py -m pip install --quiet -e "$APP_DIR" || die "pip install -e $APP_DIR failed" "read pip's error above"
	fi
	local apps="$OS_BENCH_DIR/sites/apps.txt"
	if ! grep -qx "$APP_NAME" "$apps"; then
		[ -z "$(tail -c1 "$apps")" ] || echo >>"$apps" # apps.txt has no trailing newline
		echo "$APP_NAME" >>"$apps"
	fi
}

# Each bench gets its own database names, so two benches on one MariaDB never share a site's database.
site_db_name() { # site
	python3 -c 'import hashlib,sys; print("os_" + hashlib.sha1((sys.argv[1] + "|" + sys.argv[2]).encode()).hexdigest()[:14])' \
		"$(cd "$OS_BENCH_DIR" && pwd -P)" "$1"
}

site_ok() { # site -> 0 when the site's database answers
	[ -f "$OS_BENCH_DIR/sites/$1/site_config.json" ] && bench_do --site "$1" list-apps >/dev/null 2>&1
}

ensure_site() { # site
	local site=$1 log="$OS_BENCH_DIR/logs/new-site-$1.log" created=""
	mkdir -p "$OS_BENCH_DIR/logs"
	if ! site_ok "$site"; then
		created=1
		say "creating the site $site (log: $log)"
		bench_do new-site "$site" --force --db-name "$(site_db_name "$site")" \
			--db-root-username "$DB_ROOT_USER" --db-root-password "$DB_ROOT_PASSWORD" \
			--mariadb-user-host-login-scope=% --admin-password "$OS_ADMIN_PASSWORD" </dev/null >"$log" 2>&1 || {
			tail -20 "$log" >&2
			die "bench new-site $site failed (log: $log)" "read the log; 'bench drop-site $site --force' then re-run"
		}
	fi
	if ! bench_do --site "$site" list-apps 2>/dev/null | grep -q "^$APP_NAME"; then
		say "installing $APP_NAME on $site"
		bench_do --site "$site" install-app "$APP_NAME" >"$log.install" 2>&1 || {
			tail -30 "$log.install" >&2
			die "install-app $APP_NAME on $site failed (log: $log.install)" "read the error above"
		}
	fi
	# a site just made has just run what migrate would (sync, patches, after_install = after_migrate)
	[ -z "$created" ] || return 0
	say "migrating $site"
	bench_do --site "$site" migrate >"$log.migrate" 2>&1 || {
		tail -30 "$log.migrate" >&2
		die "bench migrate on $site failed (log: $log.migrate)" "read the error above"
	}
}

# The product's site: created or reused, first-run setup done (regional settings, the scheduler's clock),
# the product's run mode (no tracebacks to callers), outgoing e-mail from OS_SMTP_* when given, scheduler on.
ensure_product_site() { # site
	local site=$1
	ensure_site "$site"
	bench_do --site "$site" execute opportunity_suite.setup_site.complete_setup_if_needed >/dev/null ||
		die "could not finish the site's first-run setup" "run 'bench --site $site execute opportunity_suite.setup_site.complete_setup_if_needed' in $OS_BENCH_DIR to see the error"
	bench_do --site "$site" execute opportunity_suite.setup_site.product_run_mode >/dev/null ||
		die "could not set the site's run mode" "run 'bench --site $site execute opportunity_suite.setup_site.product_run_mode' in $OS_BENCH_DIR to see the error"
	ensure_outgoing_email "$site"
	bench_do --site "$site" enable-scheduler >/dev/null
}

# OS_SMTP_HOST, OS_SMTP_PORT (587), OS_SMTP_USER, OS_SMTP_PASSWORD, OS_MAIL_FROM -> the site's default
# outgoing Email Account (read from the environment by setup_site.py: no password on a command line).
ensure_outgoing_email() { # site
	local site=$1
	if [ -z "${OS_SMTP_HOST:-}" ]; then
		if ! bench_do --site "$site" execute opportunity_suite.services.alerts.outgoing.has_outgoing_account 2>/dev/null | grep -q true; then
			say "no outgoing e-mail: alert e-mails will fail until you add one. Re-run with OS_SMTP_HOST, OS_SMTP_PORT, OS_SMTP_USER, OS_SMTP_PASSWORD and OS_MAIL_FROM set, or add an Email Account (Enable Outgoing, Default Outgoing) in the desk"
		fi
		return 0
	fi
	say "configuring outgoing e-mail through $OS_SMTP_HOST:${OS_SMTP_PORT:-587}"
	OS_SMTP_HOST=$OS_SMTP_HOST OS_SMTP_PORT=${OS_SMTP_PORT:-} OS_SMTP_USER=${OS_SMTP_USER:-} \
		OS_SMTP_PASSWORD=${OS_SMTP_PASSWORD:-} OS_MAIL_FROM=${OS_MAIL_FROM:-} \
		bench_do --site "$site" execute opportunity_suite.setup_site.configure_outgoing_email >/dev/null ||
		die "could not configure outgoing e-mail through $OS_SMTP_HOST" \
			"check OS_SMTP_HOST, OS_SMTP_PORT, OS_SMTP_USER and OS_SMTP_PASSWORD (the SMTP server must answer); run 'bench --site $site execute opportunity_suite.setup_site.configure_outgoing_email' in $OS_BENCH_DIR to see the error"
}

# Frappe's assets, rebuilt when the app's public/ folder changes (or was never built on this bench).
ensure_assets() {
	local stamp="$OS_BENCH_DIR/sites/assets/.opportunity-suite-built" want
	want=$( (cd "$APP_DIR" && { [ ! -d "$APP_NAME/public" ] || find "$APP_NAME/public" -type f -print0 | sort -z | xargs -0 -r sha1sum; }) | sha1sum | cut -d' ' -f1)
	if [ ! -f "$OS_BENCH_DIR/sites/assets/assets.json" ] || { [ -d "$APP_DIR/$APP_NAME/public" ] && [ ! -e "$OS_BENCH_DIR/sites/assets/$APP_NAME" ]; } ||
		[ "$(cat "$stamp" 2>/dev/null)" != "$want" ] || [ -n "${OS_BUILD:-}" ]; then
		say "building assets (log: $OS_BENCH_DIR/logs/build.log)"
		bench_do build --force >"$OS_BENCH_DIR/logs/build.log" 2>&1 ||
			{ tail -20 "$OS_BENCH_DIR/logs/build.log" >&2; die "bench build failed (log: $OS_BENCH_DIR/logs/build.log)" "read the log"; }
		echo "$want" >"$stamp"
	fi
}
