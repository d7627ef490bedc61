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
import statistics
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
	"""CPU (% of one core) and resident memory of the server's processes (a tree) and MariaDB's."""

	def __init__(self, roots):
		super().__init__(daemon=True)
		self.roots, self.cpu, self.db_cpu, self.rss = roots, [], [], []
		self.stopped = threading.Event()

	def processes(self):
		import psutil

		found = {}
		for root in self.roots():
			try:
				p = psutil.Process(root)
				for q in [p, *p.children(recursive=True)]:
					found[q.pid] = q
			except psutil.NoSuchProcess:
				pass
		return found

	def run(self):
		import psutil

		db = [p for p in psutil.process_iter(["name"]) if p.info["name"] in ("mariadbd", "mysqld")]
		known = {}
		for p in db:
			p.cpu_percent()
		while not self.stopped.wait(1.0):
			current = self.processes()
			cpu = rss = 0.0
			for pid, p in current.items():
				try:
					if pid not in known:
						known[pid] = p
						p.cpu_percent()
						continue
					cpu += known[pid].cpu_percent()
					rss += p.memory_info().rss
				except psutil.NoSuchProcess:
					pass
			self.cpu.append(cpu)
			self.rss.append(rss)
			self.db_cpu.append(sum(p.cpu_percent() for p in db))

	def summary(self) -> str:
		if not self.cpu:
			return "no samples"
		return (
			f"server CPU mean {statistics.mean(self.cpu):.0f}% max {max(self.cpu):.0f}% (100% = one core), "
			f"RSS max {max(self.rss) / 2**20:.0f} MiB; MariaDB CPU mean {statistics.mean(self.db_cpu):.0f}%"
		)


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
	"""Background jobs waiting in the bench's queues (a backlog loads the machine during the run)."""
	from frappe.utils.background_jobs import get_queues

	return sum(len(q) for q in get_queues())


def report(run: Run, sampler: Sampler, db: dict) -> float:
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
	print(sampler.summary())
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
	parser.add_argument("--rounds", type=int, default=2, help="runs of each target, alternating")
	parser.add_argument("--only", choices=("production", "bench-serve"), default=None)
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
	try:
		targets = [t for t in ("bench-serve", "production") if args.only in (None, t)]
		for target in targets:
			if target == "production":
				stack = Stack(_site.BENCH_DIR, _site.SITE, args.gunicorn_workers)
				stack.up()
				roots = lambda stack=stack: [  # noqa: E731
					stack.pid(p)
					for p in ("web", "nginx", "socketio", "worker-short", "worker-long-0", "schedule")
				]
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
				servers[target] = (base_url, lambda process=process: [process.pid], process.stop)
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
				run = Run(f"{target} round {round_ + 1}", base_url, list(users.values()), PASSWORD, tag, args)
				sampler = Sampler(roots)
				print(f"\n{run.name}: {queued_jobs(frappe)} background jobs queued at the start")
				run.go(on_start=sampler.start)
				sampler.stopped.set()
				sampler.join()
				report(run, sampler, check_database(frappe, run))
				done = sum(len(t) for a, t in run.timings.items() if a != "login")
				requests, seconds = totals.get(target, (0, 0.0))
				totals[target] = (requests + done, seconds + run.elapsed)
		rates = {t: r / s for t, (r, s) in totals.items() if s}
		print("\n" + ", ".join(f"{t}: {rate:.1f} req/s over all rounds" for t, rate in rates.items()))
		if len(rates) == 2 and rates["bench-serve"]:
			print(f"production / bench serve throughput: {rates['production'] / rates['bench-serve']:.1f}x")
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
		frappe.destroy()


if __name__ == "__main__":
	main()
