"""Load benchmark: N concurrent desk users against the production stack (scripts/production.sh: nginx,
gunicorn, workers under supervisor) and, in the same run, against `bench serve`, on loopback only.

Each client is a Sales User with a session of its own, and loops over what a desk user does: open the
list, open its deal, save it, create one, run the forecast report, search. Each makes one untimed pass first
(the server's processes warm up), then all start the timed run together. Every request is bounded (a
timeout), every target's run is bounded in time (--seconds) and in requests (--max-requests a client).
Printed per target: requests/s, p50/p95/p99 per action, errors, the server's CPU and memory (its process
tree, and MariaDB's), and a check of the database afterwards: every acknowledged create is there once,
and each deal holds its last acknowledged save (lost or duplicated writes are counted).

From the bench's sites/ folder, with the test site:
	OS_BENCH_DIR=… ../env/bin/python <app>/bench/load.py --clients 16 --seconds 30
"""

import argparse
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar

import _site

ACTIONS = ("login", "list", "open", "save", "create", "report", "search")
TIMEOUT = 60


class Client:
	def __init__(self, base_url: str, user: str, password: str):
		self.base_url, self.user, self.password = base_url, user, password
		self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))

	def call(self, method: str, path: str, data: dict | None = None):
		url = f"{self.base_url}{path}"
		body = None
		if method == "GET" and data:
			url += "?" + urllib.parse.urlencode(data)
		elif data is not None:
			body = urllib.parse.urlencode(data).encode()
		request = urllib.request.Request(url, body, {"Accept": "application/json"}, method=method)
		try:
			with self.opener.open(request, timeout=TIMEOUT) as response:
				return response.status, json.loads(response.read() or b"{}")
		except urllib.error.HTTPError as error:
			return error.code, None


class Run:
	"""One target's run: the clients' timings and what they were told was written."""

	def __init__(self, name: str, base_url: str, users: list[str], password: str, tag: str, args):
		self.name, self.base_url, self.users, self.password, self.tag, self.args = (
			name,
			base_url,
			users,
			password,
			tag,
			args,
		)
		self.timings = {action: [] for action in ACTIONS}
		self.errors = {action: 0 for action in ACTIONS}
		self.created: list[str] = []  # names the server acknowledged
		self.last_saved: dict[str, str] = {}  # deal -> the description of its last acknowledged save
		self.lock = threading.Lock()
		self.elapsed = 0.0

	def timed(self, action: str, fn):
		start = time.perf_counter()
		try:
			status, body = fn()
		except Exception:
			status, body = 0, None
		spent = time.perf_counter() - start
		with self.lock:
			self.timings[action].append(spent)
			if status != 200:
				self.errors[action] += 1
		return body if status == 200 else None

	def untimed(self, action: str, fn):
		"""As `timed`, for the warm-up: an error still counts, the time doesn't."""
		try:
			status, body = fn()
		except Exception:
			status, body = 0, None
		if status != 200:
			with self.lock:
				self.errors[action] += 1
		return body if status == 200 else None

	def client_loop(self, index: int, user: str):
		c = Client(self.base_url, user, self.password)
		login = {"usr": user, "pwd": self.password}
		logged_in = self.timed("login", lambda: c.call("POST", "/api/method/login", login))
		# an untimed pass first (each action once: the server's processes and threads load their code and
		# caches, as a server that has been up for a while has), then every client waits for the others
		deal = self.one_pass(c, index, 0, None, warm_up=True) if logged_in is not None else None
		try:
			self.ready.wait(timeout=3 * TIMEOUT)
		except threading.BrokenBarrierError:
			pass
		if logged_in is None:
			return
		stop_at = self.stop_at
		for i in range(1, self.args.max_requests // 6):
			if time.monotonic() >= stop_at:
				break
			deal = self.one_pass(c, index, i, deal)

	def one_pass(self, c: Client, index: int, i: int, deal: str | None, warm_up: bool = False) -> str | None:
		"""Create, list, open the client's deal and save it, report, search; returns the client's deal."""
		timed = self.untimed if warm_up else self.timed
		name = f"{self.tag} {self.name} {index:02d} {i:04d}"
		created = timed(
			"create",
			lambda name=name, i=i: c.call(
				"POST",
				"/api/method/frappe.client.insert",
				{
					"doc": json.dumps(
						{
							"doctype": "Opportunity",
							"opportunity_name": name,
							"amount": 1000 + i,
							"sales_stage": "Qualification",
							"expected_close_date": self.args.close_date,
						}
					)
				},
			),
		)
		if created:
			with self.lock:
				self.created.append(created["message"]["name"])
			deal = deal or created["message"]["name"]
		timed(
			"list",
			lambda: c.call(
				"POST",
				"/api/method/frappe.desk.reportview.get",
				{
					"doctype": "Opportunity",
					"fields": json.dumps(
						[
							f"`tabOpportunity`.`{f}`"
							for f in ("name", "opportunity_name", "amount", "sales_stage")
						]
					),
					"order_by": "`tabOpportunity`.`modified` desc",
					"start": 0,
					"page_length": 20,
					"with_comment_count": 1,
				},
			),
		)
		if deal:
			loaded = timed(
				"open",
				lambda deal=deal: c.call(
					"GET",
					"/api/method/frappe.desk.form.load.getdoc",
					{"doctype": "Opportunity", "name": deal},
				),
			)
			if loaded:
				doc = loaded["docs"][0]
				doc["description"] = f"save {i} of client {index}"
				saved = timed(
					"save",
					lambda doc=doc: c.call(
						"POST",
						"/api/method/frappe.desk.form.save.savedocs",
						{"doc": json.dumps(doc), "action": "Save"},
					),
				)
				if saved:
					with self.lock:
						self.last_saved[deal] = doc["description"]
		timed(
			"report",
			lambda: c.call(
				"POST",
				"/api/method/frappe.desk.query_report.run",
				{
					"report_name": "Opportunity Forecast",
					"filters": json.dumps(
						{
							"period": "Month",
							"from_date": self.args.from_date,
							"to_date": self.args.to_date,
						}
					),
				},
			),
		)
		timed(
			"search",
			lambda: c.call(
				"GET",
				"/api/method/frappe.desk.search.search_link",
				{"doctype": "Opportunity", "txt": self.tag[:12], "page_length": 10},
			),
		)
		return deal

	def go(self, on_start=None):
		"""All clients log in, then load the server for --seconds; `on_start` runs when the load starts."""
		self.stop_at = float("inf")

		def start():
			self.stop_at = time.monotonic() + self.args.seconds
			self.started = time.perf_counter()
			if on_start:
				on_start()

		self.ready = threading.Barrier(len(self.users), action=start)
		threads = [
			threading.Thread(target=self.client_loop, args=(i, user), daemon=True)
			for i, user in enumerate(self.users)
		]
		for thread in threads:
			thread.start()
		for thread in threads:
			thread.join(self.args.seconds + 6 * TIMEOUT)
		self.elapsed = time.perf_counter() - self.started


class Sampler(threading.Thread):
	"""CPU and resident memory of the server's processes (a tree), MariaDB's, and the whole machine's, over
	the run: CPU-seconds (from each process's own counters, children that came and went included as far as
	they were seen), so that a request's cost in CPU can be read beside the throughput. Also which scheduler
	autogroups (Linux gives each session one equal share of a busy CPU) the server's processes run in."""

	def __init__(self, roots, db_cpu: "DbCpu | None" = None):
		super().__init__(daemon=True)
		self.roots, self.rss, self.site_db = roots, [], db_cpu
		self.spent: dict[int, float] = {}  # pid -> CPU-seconds since the start
		self.label: dict[int, str] = {}  # pid -> the program it belongs to
		self.base: dict[int, float] = {}
		self.autogroups: set[str] = set()
		self.stopped = threading.Event()

	def processes(self):
		import psutil

		found = {}
		for label, root in self.root_pids.items():
			try:
				p = psutil.Process(root)
				for q in [p, *p.children(recursive=True)]:
					found[q.pid] = q
					self.label[q.pid] = label
			except psutil.NoSuchProcess:
				pass
		return found

	@staticmethod
	def _cpu(p) -> float:
		t = p.cpu_times()
		return t.user + t.system

	def _sample(self, first: bool = False):
		import psutil

		rss = 0.0
		for pid, p in self.processes().items():
			try:
				cpu = self._cpu(p)
				if pid not in self.base:
					# a process born during the run counts from 0, one running at the start from then
					self.base[pid] = cpu if first else 0.0
				self.spent[pid] = cpu - self.base[pid]
				rss += p.memory_info().rss
				if first:
					with open(f"/proc/{pid}/autogroup") as f:
						self.autogroups.add(f.read().split()[0])
			except (psutil.NoSuchProcess, OSError):
				pass
		self.rss.append(rss)

	def start(self):
		import psutil

		self.root_pids = self.roots()  # once: supervisorctl is a process of its own
		self.db = [p for p in psutil.process_iter(["name"]) if p.info["name"] in ("mariadbd", "mysqld")]
		self.db_base = sum(self._cpu(p) for p in self.db)
		self.site_db_base = self.site_db.seconds() if self.site_db else None
		self.clients_base = self._cpu(psutil.Process())
		self.machine_base = psutil.cpu_times()
		self.wall_base = time.monotonic()
		self._sample(first=True)
		super().start()

	def run(self):
		while not self.stopped.wait(1.0):
			self._sample()

	def finish(self):
		import psutil

		self.stopped.set()
		self.join()
		self._sample()
		self.wall = time.monotonic() - self.wall_base
		self.server_cpu = sum(self.spent.values())
		self.db_cpu = sum(self._cpu(p) for p in self.db) - self.db_base
		self.site_db_cpu = (
			self.site_db.seconds() - self.site_db_base if self.site_db_base is not None else None
		)
		self.clients_cpu = self._cpu(psutil.Process()) - self.clients_base
		now, base = psutil.cpu_times(), self.machine_base
		idle = (now.idle + getattr(now, "iowait", 0)) - (base.idle + getattr(base, "iowait", 0))
		total = sum(now) - sum(base)
		self.machine_busy = (total - idle) / total * psutil.cpu_count() * self.wall if total else 0.0

	def summary(self, requests: int) -> str:
		if not self.rss:
			return "no samples"
		per = lambda cpu: cpu / requests * 1000 if requests else float("nan")  # noqa: E731
		cores = lambda cpu: cpu / self.wall if self.wall else float("nan")  # noqa: E731
		others = self.machine_busy - self.server_cpu - self.db_cpu - self.clients_cpu
		programs = {}
		for pid, cpu in self.spent.items():
			programs[self.label[pid]] = programs.get(self.label[pid], 0.0) + cpu
		split = ", ".join(
			f"{label} {cores(cpu):.2f} ({per(cpu):.0f} ms)"
			for label, cpu in sorted(programs.items())
			if cpu >= 0.05
		)
		return (
			f"CPU (cores busy, ms a request): server {cores(self.server_cpu):.2f} ({per(self.server_cpu):.0f} ms), "
			f"MariaDB {cores(self.db_cpu):.2f} (every database), "
			+ (
				f"on this site's connections {cores(self.site_db_cpu):.2f} ({per(self.site_db_cpu):.0f} ms), "
				if self.site_db_cpu is not None
				else ""
			)
			+ f"the benchmark's clients {cores(self.clients_cpu):.2f} ({per(self.clients_cpu):.0f} ms), "
			f"the whole machine {cores(self.machine_busy):.2f}, "
			f"the rest of the machine {cores(others):.2f}; "
			f"server's programs: {split}; server RSS max {max(self.rss) / 2**20:.0f} MiB; "
			f"server in {len(self.autogroups)} autogroup(s) {' '.join(sorted(self.autogroups))}"
		)


def admin_connection(frappe):
	"""A connection as the bench's MariaDB admin (the setup's `root_login`): the server-wide views (other
	sessions' lock waits, per-user statistics) need it. None without one."""
	import pymysql

	conf = frappe.conf
	if not conf.root_password:
		return None
	return pymysql.connect(
		host=conf.db_host or "127.0.0.1",
		port=int(conf.db_port or 3306),
		user=conf.root_login or "root",
		password=conf.root_password,
		autocommit=True,
	)


class DbCpu:
	"""MariaDB's CPU spent on this site's connections alone (its user statistics, `userstat`, switched on
	for the benchmark and back off after): mariadbd's own counters include every other database's work."""

	def __init__(self, frappe):
		self.user = frappe.conf.db_user or frappe.conf.db_name
		self.conn = admin_connection(frappe)
		self.was_on = None
		if self.conn:
			with self.conn.cursor() as cursor:
				cursor.execute("select @@global.userstat")
				self.was_on = bool(cursor.fetchone()[0])
				if not self.was_on:
					cursor.execute("set global userstat = 1")

	def seconds(self) -> float | None:
		if not self.conn:
			return None
		with self.conn.cursor() as cursor:
			cursor.execute(
				"select cpu_time from information_schema.USER_STATISTICS where user = %s", (self.user,)
			)
			row = cursor.fetchone()
		return float(row[0]) if row else 0.0

	def close(self):
		if self.conn:
			if self.was_on is False:
				with self.conn.cursor() as cursor:
					cursor.execute("set global userstat = 0")
			self.conn.close()


class LockWaits(threading.Thread):
	"""Samples InnoDB's lock waits of this site's database twice a second on a connection of its own: how
	many requests wait for a row lock, and which statements wait (the waiting statement names the table)."""

	def __init__(self, frappe):
		super().__init__(daemon=True)
		self.conn = admin_connection(frappe)  # made here: frappe.local is this thread's
		self.db_name = frappe.conf.db_name
		self.samples, self.waiting, self.stopped = 0, {}, threading.Event()

	def run(self):
		if not self.conn:
			return
		try:
			with self.conn.cursor() as cursor:
				while not self.stopped.wait(0.5):
					cursor.execute(
						"""select left(r.trx_query, 90) from information_schema.INNODB_LOCK_WAITS w
						join information_schema.INNODB_TRX r on r.trx_id = w.requesting_trx_id
						join information_schema.PROCESSLIST p on p.id = r.trx_mysql_thread_id
						where p.db = %s""",
						(self.db_name,),
					)
					self.samples += 1
					for (query,) in cursor.fetchall():
						key = " ".join((query or "?").split())
						self.waiting[key] = self.waiting.get(key, 0) + 1
		finally:
			self.conn.close()

	def summary(self) -> str:
		if not self.samples:
			return "lock waits: not sampled (no MariaDB admin account in the bench's config)"
		total = sum(self.waiting.values())
		top = sorted(self.waiting.items(), key=lambda kv: -kv[1])[:4]
		return f"lock waits: {total / self.samples:.1f} requests waiting on average; " + "; ".join(
			f"{n}× {q}" for q, n in top
		)


def _uptime() -> str:
	with open("/proc/loadavg") as f:
		return "load average " + " ".join(f.read().split()[:3])


def percentile(values: list[float], q: float) -> float:
	values = sorted(values)
	return values[min(len(values) - 1, round(q * (len(values) - 1)))] if values else float("nan")


def check_database(frappe, run: Run) -> dict:
	"""What the database holds against what the server acknowledged."""
	frappe.db.rollback()
	prefix = f"{run.tag} {run.name} "
	rows = frappe.get_all(
		"Opportunity",
		filters={"opportunity_name": ("like", f"{prefix}%")},
		fields=["name", "opportunity_name"],
	)
	names = {r.name for r in rows}
	titles = [r.opportunity_name for r in rows]
	lost_creates = len(set(run.created) - names)
	duplicated = len(titles) - len(set(titles))
	unacknowledged = len(names - set(run.created))
	stored = dict(
		frappe.get_all(
			"Opportunity",
			filters={"name": ("in", list(run.last_saved) or [""])},
			fields=["name", "description"],
			as_list=True,
		)
	)
	lost_saves = sum(1 for deal, text in run.last_saved.items() if (stored.get(deal) or "").strip() != text)
	return {
		"acknowledged creates": len(run.created),
		"rows": len(rows),
		"lost creates": lost_creates,
		"duplicated": duplicated,
		"unacknowledged rows": unacknowledged,
		"deals saved": len(run.last_saved),
		"lost saves": lost_saves,
	}


def remove_created(frappe, names: list[str]):
	"""The run's opportunities and what their creates and saves made, deleted from their tables: Frappe's
	delete_doc would queue a link clean-up job a record (seconds each on a background worker, which would
	still be loading the database during the next run)."""
	by_reference = {
		"ToDo": ("reference_type", "reference_name"),
		"Comment": ("reference_doctype", "reference_name"),
		"Version": ("ref_doctype", "docname"),
		"Notification Log": ("document_type", "document_name"),
		"DocShare": ("share_doctype", "share_name"),
		"__global_search": ("doctype", "name"),
	}
	for start in range(0, len(names), 500):
		chunk = names[start : start + 500]
		for doctype, (type_field, name_field) in by_reference.items():
			frappe.db.delete(doctype, {type_field: "Opportunity", name_field: ("in", chunk)})
		frappe.db.delete("Opportunity Stage History", {"opportunity": ("in", chunk)})
		frappe.db.delete("Opportunity", {"name": ("in", chunk)})


def queued_jobs(frappe) -> int:
	"""Background jobs waiting in the bench's queues or running (a backlog loads the machine during the run)."""
	from frappe.utils.background_jobs import get_queues

	return sum(len(q) + q.started_job_registry.count for q in get_queues())


def drain_jobs(frappe, seconds: float, stack_up_at: float | None = None) -> str:
	"""Waits (at most `seconds`) until the bench's background jobs are done: the production stack's
	scheduler enqueues every scheduled job that fell due while it was down (both sites of the bench) at its
	first tick, a tick (60 s) after it starts, and its workers running that backlog during a round would
	weigh on that round alone. `stack_up_at`: when the stack came up (monotonic), to wait for that tick."""
	from frappe.utils.background_jobs import get_workers
	from frappe.utils.scheduler import get_scheduler_tick

	deadline = time.monotonic() + seconds
	if stack_up_at is not None:
		first_tick = stack_up_at + get_scheduler_tick() + 10
		while time.monotonic() < min(first_tick, deadline):
			time.sleep(1)
	queued = queued_jobs(frappe)
	moved_at = time.monotonic()
	# no worker, or none taking them (a worker's registration outlives a killed worker): not worth waiting
	while queued and get_workers() and time.monotonic() < min(deadline, moved_at + 30):
		time.sleep(1)
		queued, before = queued_jobs(frappe), queued
		if queued != before:
			moved_at = time.monotonic()
	return f"{queued} background jobs queued or running at the start ({len(get_workers())} workers up)"


def report(run: Run, sampler: Sampler, db: dict, lock_waits: "LockWaits | None" = None) -> float:
	total = sum(len(t) for a, t in run.timings.items() if a != "login")
	errors = sum(run.errors.values())
	rps = total / run.elapsed if run.elapsed else 0
	print(
		f"\n== {run.name}: {len(run.users)} clients, {run.elapsed:.1f} s, {total} requests after the logins, {rps:.1f} req/s, {errors} errors"
	)
	print(f"{'action':<8}{'n':>7}{'err':>6}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}")
	for action in ACTIONS:
		t = run.timings[action]
		print(
			f"{action:<8}{len(t):>7}{run.errors[action]:>6}"
			f"{percentile(t, 0.5) * 1000:>9.0f}{percentile(t, 0.95) * 1000:>9.0f}{percentile(t, 0.99) * 1000:>9.0f}"
		)
	print(sampler.summary(total))
	if lock_waits:
		print(lock_waits.summary())
	print("database: " + ", ".join(f"{k} {v}" for k, v in db.items()))
	return rps


def main():
	parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
	parser.add_argument("--clients", type=int, default=16)
	parser.add_argument("--seconds", type=float, default=30, help="how long each target is loaded")
	parser.add_argument("--max-requests", type=int, default=600, help="at most this many requests a client")
	parser.add_argument(
		"--gunicorn-workers", type=int, default=None, help="default: scripts/production.sh's rule"
	)
	parser.add_argument("--gunicorn-threads", type=int, default=None, help="default: scripts/production.sh's")
	parser.add_argument(
		"--configs",
		default=None,
		help="production variants to compare, WORKERSxTHREADS[:KEY=VALUE...] comma-separated (e.g. 2x4,5x4,5x1): "
		"each its own target, KEY=VALUE for scripts/production.sh",
	)
	parser.add_argument(
		"--stack-env", action="append", default=[], help="KEY=VALUE for scripts/production.sh (repeatable)"
	)
	parser.add_argument("--rounds", type=int, default=2, help="runs of each target, alternating")
	parser.add_argument("--only", choices=("production", "bench-serve"), default=None)
	parser.add_argument(
		"--drain-seconds",
		type=float,
		default=300,
		help="at most this long waiting for queued jobs before a round",
	)
	parser.add_argument(
		"--lock-waits", action="store_true", help="sample InnoDB's lock waits during each run"
	)
	args = parser.parse_args()

	frappe = _site.connect()
	from frappe.utils import add_days, add_months, get_first_day, today

	from tests.conftest import ARTIFACTS
	from tests.http_users import PASSWORD, make_login_users, remove_login_users
	from tests.processes import BenchProcess
	from tests.production_stack import Stack, free_ports

	args.close_date = add_days(today(), 30)
	args.from_date = str(get_first_day(today()))
	args.to_date = str(add_days(add_months(get_first_day(today()), 12), -1))
	tag = f"Load {frappe.generate_hash(length=6)}"
	users = make_login_users(**{f"u{i}": "Sales User" for i in range(args.clients)})
	servers, totals = {}, {}
	db_cpu = DbCpu(frappe)
	try:
		stacks = {}  # production target -> its Stack (one at a time runs: they share the site's group)
		variants = args.configs.split(",") if args.configs else [None]
		targets = []
		if args.only in (None, "bench-serve"):
			targets.append("bench-serve")
		if args.only in (None, "production"):
			for variant in variants:
				env = dict(e.split("=", 1) for e in args.stack_env)
				workers, threads = args.gunicorn_workers, args.gunicorn_threads
				if variant:  # WORKERSxTHREADS[:KEY=VALUE...]
					size, *extra = variant.split(":")
					workers, threads = (int(n) for n in size.split("x"))
					env.update(e.split("=", 1) for e in extra)
				target = f"production {variant}" if variant else "production"
				stacks[target] = Stack(_site.BENCH_DIR, _site.SITE, workers, threads, env)
				targets.append(target)
		for target in targets:
			if target in stacks:
				stack = stacks[target]
				roots = lambda stack=stack: {  # noqa: E731
					p: stack.pid(p)
					for p in ("web", "nginx", "socketio", "worker-short", "worker-long-0", "schedule")
				}
				servers[target] = (stack.url, roots, stack.down)
			else:
				[port] = free_ports(1)
				process = BenchProcess(
					"load-bench-serve",
					["bench", "--site", _site.SITE, "serve", "--port", str(port), "--noreload"],
					_site.BENCH_DIR,
					ARTIFACTS,
				)
				base_url = f"http://127.0.0.1:{port}"
				servers[target] = (
					base_url,
					lambda process=process: {"bench serve": process.pid},
					process.stop,
				)
				deadline = time.monotonic() + 90
				while time.monotonic() < deadline:
					try:
						urllib.request.urlopen(f"{base_url}/api/method/ping", timeout=5)
						break
					except OSError:
						time.sleep(0.5)
		# rounds alternate the targets, so that the machine's other load weighs on both alike
		for round_ in range(args.rounds):
			for target in targets if round_ % 2 == 0 else targets[::-1]:
				base_url, roots, _stop = servers[target]
				if target in stacks and not stacks[target].running:
					for other in stacks.values():
						other.down()
					print(stacks[target].up().strip().splitlines()[0])
					stacks[target].up_at = time.monotonic()
				run = Run(f"{target} round {round_ + 1}", base_url, list(users.values()), PASSWORD, tag, args)
				sampler = Sampler(roots, db_cpu)
				lock_waits = LockWaits(frappe) if args.lock_waits else None
				drained = drain_jobs(frappe, args.drain_seconds, getattr(stacks.get(target), "up_at", None))
				print(f"\n{run.name}: {drained}; {_uptime()}")

				def on_start(sampler=sampler, lock_waits=lock_waits):
					sampler.start()
					if lock_waits:
						lock_waits.start()

				run.go(on_start=on_start)
				sampler.finish()
				if lock_waits:
					lock_waits.stopped.set()
					lock_waits.join()
				report(run, sampler, check_database(frappe, run), lock_waits)
				print(_uptime())
				done = sum(len(t) for a, t in run.timings.items() if a != "login")
				requests, seconds = totals.get(target, (0, 0.0))
				totals[target] = (requests + done, seconds + run.elapsed)
		rates = {t: r / s for t, (r, s) in totals.items() if s}
		print("\n" + ", ".join(f"{t}: {rate:.1f} req/s over all rounds" for t, rate in rates.items()))
		for target, rate in rates.items():
			if target != "bench-serve" and rates.get("bench-serve"):
				print(f"{target} / bench serve throughput: {rate / rates['bench-serve']:.2f}x")
	finally:
		frappe.db.rollback()
		remove_created(
			frappe,
			frappe.get_all("Opportunity", filters={"opportunity_name": ("like", f"{tag}%")}, pluck="name"),
		)
		frappe.db.commit()
		for _url, _roots, stop in servers.values():
			stop()
		remove_login_users(users)
		db_cpu.close()
		frappe.destroy()


if __name__ == "__main__":
	main()
