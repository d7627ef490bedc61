"""Benchmark: the infix search (services/search.py) at 1,000,000 opportunities, over HTTP as a Sales User.

	env/bin/python bench/search_latency.py [--rows 1000000] [--calls 9] [--keep]

Builds the rows if missing (SQL, names like "Renewal 4242 Acme 17": five kinds × numbers 1–9999 ×
organizations; committed, marked by their ID prefix SRCHB-), starts gunicorn on a free loopback port,
logs in a Sales User and times, p50/p95 of `--calls` calls each, with the raw SQL beside it:
the list's name box (`frappe.desk.reportview.get`, `opportunity_name like %Renewal 4242%`, 20 rows by
modified), its count (`reportview.get_count`, limit 1001 as the list asks), the link search
(`search_link` "Renewal 42") — first without the window index (dropped: Frappe's own queries), then with it
(rebuilt by `ensure_search_index`, its build time printed). Removes the rows afterwards unless --keep."""

import argparse
import socket
import statistics
import sys
import time
from pathlib import Path

import _site

frappe = _site.connect()

from opportunity_suite.services import search  # noqa: E402
from tests.http_users import PASSWORD, Client, make_login_users, remove_login_users  # noqa: E402
from tests.processes import BenchProcess  # noqa: E402

PREFIX = "SRCHB"
KINDS = ("Renewal", "New Business", "Upsell", "Expansion", "Services")
ORGS = ("Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark", "Wayne", "Wonka")


def build_rows(rows: int) -> float:
	have = frappe.db.sql("select count(*) from `tabOpportunity` where name like %s", (f"{PREFIX}-%",))[0][0]
	if have >= rows:
		return 0.0
	started = time.perf_counter()
	kinds = ", ".join(frappe.db.escape(k) for k in KINDS)
	orgs = ", ".join(frappe.db.escape(o) for o in ORGS)
	for start in range(have + 1, rows + 1, 100_000):
		end = min(start + 99_999, rows)
		frappe.db.sql(
			f"""insert into `tabOpportunity` (name, creation, modified, owner, modified_by, docstatus,
				opportunity_name, amount, currency, exchange_rate, probability, forecast_amount,
				base_forecast_amount, sales_stage, status, expected_close_date, assigned_to)
			select concat('{PREFIX}-', lpad(seq, 7, '0')), now() - interval seq second,
				now() - interval seq second, 'Administrator', 'Administrator', 0,
				concat(elt(1 + seq % 5, {kinds}), ' ', 1 + (seq * 7919) % 9999, ' ',
					elt(1 + (seq div 5) % 8, {orgs}), ' ', seq % 250),
				seq % 100000, 'USD', 1, seq % 101, 0, 0, 'Prospecting', 'Open', curdate(), 'Administrator'
			from seq_{start}_to_{end}"""
		)
		frappe.db.commit()
	return time.perf_counter() - started


def _free_port() -> int:
	with socket.socket() as s:
		s.bind(("127.0.0.1", 0))
		return s.getsockname()[1]


def start_gunicorn() -> tuple[BenchProcess, str]:
	port = _free_port()
	gunicorn = _site.BENCH_DIR / "env" / "bin" / "gunicorn"
	args = [
		str(gunicorn),
		"-b",
		f"127.0.0.1:{port}",
		"-w",
		"2",
		"-t",
		"120",
		"--preload",
		"frappe.app:application",
	]
	process = BenchProcess(
		"search-latency-gunicorn", args, _site.BENCH_DIR / "sites", _site.BENCH_DIR / "logs"
	)
	url = f"http://127.0.0.1:{port}"
	for _ in range(240):
		try:
			with socket.create_connection(("127.0.0.1", port), timeout=1):
				return process, url
		except OSError:
			time.sleep(0.5)
	raise RuntimeError("gunicorn did not start")


CALLS = {
	"list name box 'Renewal 4242'": (
		"/api/method/frappe.desk.reportview.get",
		{
			"doctype": "Opportunity",
			"fields": ["`tabOpportunity`.`name`", "`tabOpportunity`.`opportunity_name`"],
			"filters": [["Opportunity", "opportunity_name", "like", "%Renewal 4242%"]],
			"order_by": "`tabOpportunity`.`modified` desc",
			"start": 0,
			"page_length": 20,
		},
	),
	"list count 'Renewal 4242'": (
		"/api/method/frappe.desk.reportview.get_count",
		{
			"doctype": "Opportunity",
			"filters": [["Opportunity", "opportunity_name", "like", "%Renewal 4242%"]],
			"limit": 1001,
		},
	),
	"link search 'Renewal 42'": (
		"/api/method/frappe.desk.search.search_link",
		{"doctype": "Opportunity", "txt": "Renewal 42"},
	),
}

FLOORS = {  # the raw SQL each call comes down to, without Frappe
	"list name box 'Renewal 4242'": "select name, opportunity_name from `tabOpportunity` where opportunity_name"
	" like '%Renewal 4242%' order by modified desc limit 20",
	"list count 'Renewal 4242'": "select count(*) from (select name from `tabOpportunity` where opportunity_name"
	" like '%Renewal 4242%' limit 1001) t",
	"link search 'Renewal 42'": "select name, opportunity_name from `tabOpportunity` where name like '%Renewal 42%'"
	" or opportunity_name like '%Renewal 42%' or sales_stage like '%Renewal 42%' or status like '%Renewal 42%'"
	" order by idx desc, modified desc limit 10",
}
INDEX_FLOOR = f"select name from `{search.TABLE}` where match(windows) against ('+wal_42' in boolean mode)"


def _timed_sql(query: str) -> float:
	started = time.perf_counter()
	frappe.db.sql(query)
	return (time.perf_counter() - started) * 1000


def measure(client: Client, calls: int) -> dict[str, tuple[float, float, int]]:
	results = {}
	for label, (path, payload) in CALLS.items():
		timings, answer = [], None
		client.call(path, payload)  # warm
		for _ in range(calls):
			started = time.perf_counter()
			status, answer = client.call(path, payload)
			timings.append((time.perf_counter() - started) * 1000)
			assert status == 200, answer
		timings.sort()
		message = answer.get("message") if isinstance(answer, dict) else None
		if isinstance(message, dict):  # reportview.get's compressed {keys, values}
			message = message.get("values")
		size = message if isinstance(message, int) else len(message or [])
		p95 = timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]
		results[label] = (statistics.median(timings), p95, size, _timed_sql(FLOORS[label]))
		print(
			f"  {label:32} p50 {results[label][0]:7.0f} ms  p95 {p95:7.0f} ms  ({size} rows)  raw SQL of "
			f"Frappe's query {results[label][3]:6.0f} ms  (load average {_load()})",
			flush=True,
		)
	return results


def _load() -> str:
	return Path("/proc/loadavg").read_text().split()[0] if Path("/proc/loadavg").exists() else "?"


def import_cost(rows: int, import_rows: int):
	"""The index's write cost: one Opportunity Import of `import_rows` CSV rows through a real worker
	(bench/import_benchmark.py's), without the index and with it, the `rows` opportunities in the table."""
	import tempfile

	sys.path.insert(0, str(_site.REPO))
	from bench.data import write_csv
	from bench.import_benchmark import cleanup, opportunity_import

	build_rows(rows)
	for label, prepare in (
		("without the window index", search.drop_search_index),
		("with the window index", search.ensure_search_index),
	):
		prepare()
		tag = frappe.generate_hash(length=8)
		path = str(Path(tempfile.mkdtemp()) / f"opportunities-{tag}.csv")
		write_csv(path, import_rows, description_tag=tag)
		result = opportunity_import(path, _site.BENCH_DIR)
		print(
			f"Opportunity Import {label}: {import_rows:,} rows in {result['seconds']:.1f} s = "
			f"{import_rows / result['seconds']:,.0f} rows/s ({result['status']}, created "
			f"{result['created_count']:,}; load average {_load()})",
			flush=True,
		)
		cleanup([result["name"]], [], tag)
		Path(path).unlink()


def main():
	parser = argparse.ArgumentParser()
	parser.add_argument("--rows", type=int, default=1_000_000)
	parser.add_argument("--calls", type=int, default=9)
	parser.add_argument("--keep", action="store_true")
	parser.add_argument("--with-only", action="store_true", help="keep the index, time only with it")
	parser.add_argument(
		"--import-rows", type=int, default=0, help="also time an Opportunity Import of N rows without/with"
	)
	args = parser.parse_args()
	if args.import_rows:
		return import_cost(args.rows, args.import_rows)
	if not args.with_only:
		search.drop_search_index()
	built = build_rows(args.rows)
	total = frappe.db.count("Opportunity")
	print(f"{total:,} opportunities ({args.rows:,} of them {PREFIX}-…, built in {built:.0f} s)", flush=True)
	users = make_login_users(seller="Sales User")
	process, url = start_gunicorn()
	try:
		client = Client(url)
		client.opener.addheaders = [("X-Frappe-Site-Name", _site.SITE)]
		status, body = client.call("/api/method/login", {"usr": users["seller"], "pwd": PASSWORD})
		assert status == 200, body
		if not args.with_only:
			print("\nwithout the window index (Frappe's queries as they are)", flush=True)
			measure(client, args.calls)
		started = time.perf_counter()
		search.ensure_search_index()
		print(
			f"\nwindow index ready in {time.perf_counter() - started:.0f} s (load {_load()}); "
			f"its own FULLTEXT lookup '+wal_42': {_timed_sql(INDEX_FLOOR):.0f} ms",
			flush=True,
		)
		print("with the window index", flush=True)
		measure(client, args.calls)
	finally:
		process.stop()
		remove_login_users(users)
		if not args.keep:
			frappe.db.sql("delete from `tabOpportunity` where name like %s", (f"{PREFIX}-%",))
			frappe.db.commit()


if __name__ == "__main__":
	sys.exit(main())
