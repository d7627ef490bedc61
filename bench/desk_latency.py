"""Benchmark: the desk's calls on a big pipeline (bench/pipeline.py), over HTTP through gunicorn, beside the
raw SQL they run.

	OS_BENCH_SITE=<site> env/bin/python bench/desk_latency.py [--reps 9] [--only REGEX] [--port N]
		[--phases user,manager,private]

Starts gunicorn (gthread, as scripts/production.sh runs it) on a free port for the site, logs in as the
pipeline's Sales User (pipeline.sales01, a team lead of four) and Sales Manager, and times each call
`--reps` times: p50 / p95 in ms. Phases: `user` and `manager` with the visibility as the site has it
(Everyone), `private` the Sales User with Opportunity Settings' visibility *Owner, Assignees and Their
Managers* (set for the phase, put back after).

The SQL floor: the same call is run once more in this process as the same user (frappe.handler.execute_cmd,
the whitelisted-method overrides applied, caches warm), every SELECT it sends is recorded, and each is run
again on its own, raw (cursor.execute + fetchall), `--reps` times; the floor is the sum of their medians,
`ratio` = HTTP p50 / floor, `slowest` the share of the floor of the slowest statement. `KB` is the last
answer's size as sent, `rows` a report's rows (its total row included)."""

import argparse
import json
import re
import statistics
import subprocess
import time

import _site

frappe = _site.connect()

from frappe.utils import add_days, add_months, get_first_day, today  # noqa: E402

from bench.pipeline import MANAGER, PASSWORD, PREFIX, organization_name, user_id  # noqa: E402
from tests.processes import BenchProcess  # noqa: E402
from tests.production_stack import free_ports  # noqa: E402

DT = "Opportunity"
LIST_FIELDS = [
	f"`tab{DT}`.`{f}`"
	for f in (
		"name",
		"owner",
		"creation",
		"modified",
		"modified_by",
		"_user_tags",
		"_comments",
		"_assign",
		"_liked_by",
		"docstatus",
		"idx",
		"opportunity_name",
		"status",
		"sales_stage",
		"organization",
		"amount",
		"forecast_amount",
		"expected_close_date",
		"currency",
		"assigned_to",
		"is_stale",
	)
]
SORTS = (
	"modified desc",
	"creation desc",
	"name desc",
	"opportunity_name asc",
	"amount desc",
	"forecast_amount desc",
	"expected_close_date asc",
	"sales_stage asc",
	"assigned_to asc",
	"organization asc",
	"status asc",
	"idx desc",
)


def list_call(filters=None, order_by="modified desc") -> tuple[str, dict]:
	field, direction = order_by.split()
	return "frappe.desk.reportview.get", {
		"doctype": DT,
		"fields": json.dumps(LIST_FIELDS),
		"filters": json.dumps(filters or []),
		"order_by": f"`tab{DT}`.`{field}` {direction}",
		"start": 0,
		"page_length": 20,
		"view": "List",
		"group_by": "",
		"with_comment_count": 1,
	}


def card(name: str) -> tuple[str, dict]:
	doc = frappe.get_doc("Number Card", name)
	return "frappe.desk.doctype.number_card.number_card.get_result", {
		"doc": json.dumps(doc.as_dict(), default=str),
		"filters": doc.filters_json,
	}


def report(name: str, filters: dict) -> tuple[str, dict]:
	return "frappe.desk.query_report.run", {
		"report_name": name,
		"filters": json.dumps(filters),
		"ignore_prepared_report": 1,
		"are_default_filters": True,
	}


def calls(user: str) -> dict[str, tuple[str, dict]]:
	"""Every call, named; the values are the pipeline's (a stage, an organization, the user)."""
	start = get_first_day(today())
	twelve = {"from_date": str(start), "to_date": str(add_days(add_months(start, 12), -1))}
	deal = frappe.db.get_value(DT, {"name": ("like", f"{PREFIX}-%"), "assigned_to": user}, "name") or (
		f"{PREFIX}-0004242"  # the manager has no deals of their own
	)
	stage = "Negotiation/Review"
	org = frappe.db.get_value(DT, deal, "organization") or organization_name(1)
	lost_reason = frappe.db.get_value("Lost Reason", {}, "name")
	standard = {
		"organization": org,
		"sales_stage": stage,
		"status": "Open",
		"loss_reason": lost_reason or "none",
		"assigned_to": user,
		"forecast_category": "Commit",
		"is_stale": 1,
	}
	meta = frappe.get_meta(DT)
	out = {"list": list_call()}
	for field, value in standard.items():
		if meta.has_field(field):
			out[f"list {field}="] = list_call([[DT, field, "=", value]])
	out["list open+assigned (saved filter)"] = list_call(
		[[DT, "status", "=", "Open"], [DT, "assigned_to", "=", user]]
	)
	for order in SORTS[1:]:
		out[f"list sort {order}"] = list_call(order_by=order)
	# the list's "20 of 1,000+" (limit 1001), and the full count a click on it asks for
	out["count (list, limit 1001)"] = (
		"frappe.desk.reportview.get_count",
		{"doctype": DT, "filters": "[]", "fields": "[]", "distinct": "false", "limit": 1001},
	)
	out["count (full)"] = (
		"frappe.desk.reportview.get_count",
		{"doctype": DT, "filters": "[]", "fields": "[]", "distinct": "false"},
	)
	out["count open (client)"] = (
		"frappe.client.get_count",
		{"doctype": DT, "filters": json.dumps([[DT, "status", "=", "Open"]])},
	)
	for field in ("assigned_to", "owner", "sales_stage", "status"):
		out[f"sidebar {field}"] = (
			"frappe.desk.listview.get_group_by_count",
			{"doctype": DT, "current_filters": "[]", "field": field},
		)
	out["kanban cards"] = list_call()
	out["kanban column totals"] = ("opportunity_suite.api.kanban.column_totals", {"filters": "[]"})
	out["report Opportunity Forecast"] = report(
		"Opportunity Forecast", {"period": "Month", "group_by": "Stage", "status": "Open", **twelve}
	)
	# the drill-down: the same months and stages per assignee (the default view before it was per stage)
	out["report Opportunity Forecast, Stage and Assignee"] = report(
		"Opportunity Forecast",
		{"period": "Month", "group_by": "Stage and Assignee", "status": "Open", **twelve},
	)
	for name in frappe.get_all("Number Card", filters={"module": "Opportunity Suite"}, pluck="name"):
		out[f"card {name}"] = card(name)
	# a Report chart: the desk's widget runs the chart's report with the chart's filters
	chart = frappe.get_doc(
		"Dashboard Chart", frappe.get_all("Dashboard Chart", {"module": "Opportunity Suite"}, pluck="name")[0]
	)
	out[f"chart {chart.name}"] = report(chart.report_name, frappe.parse_json(chart.filters_json or "{}"))
	out["form getdoc"] = ("frappe.desk.form.load.getdoc", {"doctype": DT, "name": deal})
	out["form related counts"] = ("opportunity_suite.api.related.get_related", {"opportunity": deal})
	for name in ("Time in Stage", "Win Loss", "Forecast Accuracy"):
		if frappe.db.exists("Report", name):
			out[f"report {name}"] = report(name, {})
	if frappe.db.exists("Report", "Win Loss"):  # the summary's other kinds, and partial months at both ends
		for dimension in ("Competitor", "Size Band", "Lead Source"):
			out[f"report Win Loss by {dimension}"] = report("Win Loss", {"dimension": dimension})
		year = {"from_date": str(add_days(add_months(get_first_day(today()), -12), 14)), "to_date": today()}
		out["report Win Loss, mid-month to mid-month"] = report(
			"Win Loss", {"dimension": "Loss Reason", **year}
		)
	if frappe.db.exists("Report", "Forecast Accuracy"):
		out["report Forecast Accuracy by Quarter"] = report("Forecast Accuracy", {"period": "Quarter"})
	if frappe.db.exists("Report", "Time in Stage"):  # and a quarter: ragged month ends, not whole months
		quarter = {"from_date": str(add_days(today(), -100)), "to_date": str(add_days(today(), -10))}
		out["report Time in Stage (a quarter)"] = report("Time in Stage", quarter)
	out["name search (list like)"] = list_call([[DT, "opportunity_name", "like", "%Renewal 4242%"]])
	out["link search"] = ("frappe.desk.search.search_link", {"doctype": DT, "txt": "Renewal 42"})
	out["global search"] = ("frappe.utils.global_search.search", {"text": "Renewal 4242", "limit": 20})
	return out


SLOW_MS = 1000
GET_ONLY = {"opportunity_suite.api.kanban.column_totals"}  # whitelisted for GET alone


class Session:
	def __init__(self, base_url: str, user: str):
		import requests

		self.base_url = base_url
		self.http = requests.Session()
		self.http.headers["X-Frappe-Site-Name"] = _site.SITE
		response = self.http.post(f"{base_url}/api/method/login", json={"usr": user, "pwd": PASSWORD})
		response.raise_for_status()

	def call(self, method: str, args: dict) -> float:
		url = f"{self.base_url}/api/method/{method}"
		started = time.perf_counter()
		if method in GET_ONLY:
			response = self.http.get(url, params=args)
		else:
			response = self.http.post(url, data=args)
		elapsed = (time.perf_counter() - started) * 1000
		self.last = response  # its size and a report's rows go beside the times
		if response.status_code == 403:
			raise PermissionError(method)
		if response.status_code != 200:
			raise RuntimeError(f"{method}: HTTP {response.status_code} {response.text[:300]}")
		return elapsed


def capture(user: str, method: str, args: dict, http_method: str) -> list[str]:
	"""The SELECTs the call sends, run here as `user` (a second run: the caches are warm)."""
	import frappe.handler
	from werkzeug.test import EnvironBuilder
	from werkzeug.wrappers import Request

	frappe.local.request = Request(EnvironBuilder(method=http_method).get_environ())
	frappe.set_user(user)
	frappe.local.opportunity_suite_visibility = None
	recorded = []
	original = frappe.db.sql

	def recording(query, *a, **kw):
		result = original(query, *a, **kw)
		executed = frappe.db.last_query
		if isinstance(executed, bytes):
			executed = executed.decode()
		if executed and executed.lstrip().lower().startswith(("select", "with", "(select")):
			recorded.append(executed)
		return result

	for _attempt in range(2):
		recorded.clear()
		frappe.local.form_dict = frappe._dict(args)
		frappe.local.response = frappe._dict({"docs": []})
		frappe.db.sql = recording
		try:
			frappe.handler.execute_cmd(method)
		finally:
			frappe.db.sql = original
			frappe.db.rollback()
	frappe.set_user("Administrator")
	return list(recorded)


def floor(queries: list[str], reps: int) -> tuple[float, float]:
	"""Sum of the medians of each statement run raw, and the slowest one's median (ms)."""
	cursor = frappe.db._cursor
	medians = []
	for query in queries:
		times = []
		for _ in range(reps):
			started = time.perf_counter()
			cursor.execute(query)
			cursor.fetchall()
			times.append((time.perf_counter() - started) * 1000)
		medians.append(statistics.median(times))
	return sum(medians), max(medians, default=0.0)


def p95(values: list[float]) -> float:
	values = sorted(values)
	return values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]


def run_phase(base_url: str, phase: str, user: str, args, results: list[dict]):
	session = Session(base_url, user)
	for name, (method, call_args) in calls(user).items():
		if args.only and not re.search(args.only, name):
			continue
		try:
			warm_up = session.call(method, call_args)  # not counted
		except PermissionError:
			print(f"| {phase:<7} | {name:<38} | denied to this role (HTTP 403) |", flush=True)
			continue
		reps = args.reps if warm_up < SLOW_MS else min(args.reps, 3)  # a call over a second: 3 are enough
		times = [session.call(method, call_args) for _ in range(reps)]
		queries = capture(user, method, call_args, "GET" if method in GET_ONLY else "POST")
		if args.show_sql:
			print("\n".join(f"    {q[:400]}" for q in queries))
		sql, slowest = floor(queries, reps)
		row = {
			"phase": phase,
			"call": name,
			"p50": statistics.median(times),
			"p95": p95(times),
			"sql": sql,
			"queries": len(queries),
			"reps": reps,
			"slowest": slowest,
			**answer_size(session.last),
		}
		results.append(row)
		print(_format(row), flush=True)
		if args.save:  # after every call: a run stopped half-way keeps what it measured
			with open(args.save, "w") as f:
				json.dump(results, f, indent=1)


def answer_size(response) -> dict:
	"""The answer's bytes (as sent: no compression between gunicorn and us) and, for a report, its rows (the
	total row included)."""
	size = {"bytes": len(response.content)}
	message = response.json().get("message") if response.content else None
	if isinstance(message, dict) and isinstance(message.get("result"), list):
		size["rows"] = len(message["result"])
	return size


BEFORE: dict[tuple[str, str], dict] = {}  # --before FILE: an earlier run's rows, shown beside


def _format(row: dict) -> str:
	ratio = row["p50"] / row["sql"] if row["sql"] else 0
	flag = "  >300" if row["p95"] > 300 else ""
	calls = "" if row["reps"] >= 9 else f" ({row['reps']} calls)"
	before = BEFORE.get((row["phase"], row["call"]))
	was = f" {before['p50']:7.0f} | {before['p95']:7.0f} |" if before else ""
	size = f" {row.get('bytes', 0) / 1024:8.1f} | {row['rows'] if 'rows' in row else '':>6} |"
	return (
		f"| {row['phase']:<7} | {row['call']:<38} |{was} {row['p50']:7.0f} | {row['p95']:7.0f} | {row['sql']:7.1f} "
		f"| {row['queries']:3d} | {row['slowest']:7.1f} | {ratio:6.1f} |{size}{flag}{calls}"
	)


def load_average() -> str:
	return (
		subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip().split("load average:")[-1]
	)


def main():
	parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
	parser.add_argument("--reps", type=int, default=9)
	parser.add_argument("--only", help="only the calls whose name matches this regular expression")
	parser.add_argument("--phases", default="user,manager,private")
	parser.add_argument("--save", help="write the rows to this JSON file")
	parser.add_argument("--before", help="an earlier run's --save file: its p50/p95 beside")
	parser.add_argument("--show-sql", action="store_true", help="print the SELECTs of each call")
	parser.add_argument("--port", type=int, help="an already running web server's port (else gunicorn)")
	args = parser.parse_args()
	rows = frappe.db.count(DT)
	server = None
	if args.port:
		base_url = f"http://127.0.0.1:{args.port}"
	else:
		[port] = free_ports(1)
		base_url = f"http://127.0.0.1:{port}"
		server = BenchProcess(
			"desk-latency-gunicorn",
			[
				str(_site.BENCH_DIR / "env/bin/gunicorn"),
				"-b",
				f"127.0.0.1:{port}",
				"-w",
				"2",
				"-k",
				"gthread",
				"--threads",
				"4",
				"-t",
				"300",
				"--preload",
				"frappe.app:application",
			],
			_site.BENCH_DIR / "sites",
			_site.BENCH_DIR / "logs",
		)
		_wait_for(base_url)
	print(f"{rows:,} opportunities on {_site.SITE}; load average{load_average()}; {args.reps} calls each")
	if args.before:
		with open(args.before) as f:
			BEFORE.update({(r["phase"], r["call"]): r for r in json.load(f)})
	was = " before p50 | before p95 |" if BEFORE else ""
	print(f"| phase | call |{was} p50 ms | p95 ms | SQL ms | n | slowest | ratio | KB | rows |")
	print("|---|---|" + "---:|" * (10 if BEFORE else 8))
	old = _site.set_visibility(None)
	results = []
	try:
		for phase in args.phases.split(","):
			user = MANAGER if phase == "manager" else user_id(1)
			if phase == "private":
				from opportunity_suite.services.visibility import PRIVATE

				_site.set_visibility(PRIVATE)
			run_phase(base_url, phase, user, args, results)
	finally:
		if old is not None:
			_site.set_visibility(old)
		if server:
			server.stop()
	print(f"load average at the end:{load_average()}")
	frappe.destroy()


def _wait_for(base_url: str):
	import requests

	deadline = time.monotonic() + 120
	while time.monotonic() < deadline:
		try:
			headers = {"X-Frappe-Site-Name": _site.SITE}
			if requests.get(f"{base_url}/api/method/ping", headers=headers, timeout=5).ok:
				return
		except requests.RequestException:
			pass
		time.sleep(0.5)
	raise RuntimeError("gunicorn did not answer")


if __name__ == "__main__":
	main()
