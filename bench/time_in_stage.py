"""Benchmark: the Time in Stage report (its fast path and the straightforward PERCENTILE_CONT it replaces)
and the stale radar's daily refresh over COUNT opportunities with three stage changes each (4 history rows
per deal), spread over the last year, 20 assignees (Sales Users, the deals' owner and assignee), stays of
0–60 days to the hundredth.

	env/bin/python bench/time_in_stage.py [COUNT ...]     (default: 100000)

Inserts the deals and their history straight into the tables (then counts them into the Stage Stay Count
summary, as the migrate patch does), checks that the fast path gives the straightforward computation's
numbers, runs the report 20 times for each of its filters (the last 12 months, a quarter, one stage, one
assignee, one assignee's quarter) as Administrator, and with the private visibility as a Sales Manager and
as a Sales User (who reads only their own deals' history: their viewer keys' rows, checked against the
straightforward query first),
times the straightforward computation a few times, `refresh_all_stale` once, then removes the rows
(BENCH_NO_STALE=1: no stale refresh; BENCH_KEEP=1: keeps them, to look at the queries; `--drop PREFIX`
removes them; BENCH_ONLY=regex: only the report timings whose label matches; `--measure` times again what a kept run left). Prints each figure with the
load average: the machine is shared."""

import os
import re
import statistics
import sys
import time

from _site import connect, set_visibility

frappe = connect()

from frappe.desk.query_report import run as run_report  # noqa: E402
from frappe.utils import add_days, today  # noqa: E402

from opportunity_suite.services import stage_stays, totals  # noqa: E402
from opportunity_suite.services.stale import refresh_all_stale  # noqa: E402
from opportunity_suite.services.time_in_stage import (  # noqa: E402
	fast_statistics,
	straightforward_statistics,
	visible_statistics,
)
from tests.factories import bulk_make_opportunities, delete_bulk_opportunities  # noqa: E402

STAGES = ("Prospecting", "Qualification", "Needs Analysis", "Value Proposition")
OWNERS = 20
MANAGER = "bench-manager@example.com"


def owner(n: int) -> str:
	return f"bench-owner-{n}@example.com"


def ensure_users():
	"""The 20 assignees as Sales Users and a Sales Manager (kept between runs)."""
	for email, role in [*((owner(n), "Sales User") for n in range(OWNERS)), (MANAGER, "Sales Manager")]:
		if not frappe.db.exists("User", email):
			user = frappe.get_doc(
				{
					"doctype": "User",
					"email": email,
					"first_name": email.split("@")[0],
					"send_welcome_email": 0,
					"user_type": "System User",
					"roles": [{"role": role}],
				}
			)
			user.flags.no_welcome_mail = True
			user.insert(ignore_permissions=True)
	frappe.db.commit()


def match_history(prefix: str):
	"""Each deal as its history left it: owned by and assigned to its assignee (Frappe's `_assign` too),
	in its last stage since its last change (raw SQL: a join on the deal's number)."""
	frappe.db.sql(
		"""UPDATE `tabOpportunity` o JOIN `tabOpportunity Stage History` h ON h.name = CONCAT(o.name, '-3')
		SET o.owner = h.assigned_to, o.assigned_to = h.assigned_to,
			o._assign = CONCAT('["', h.assigned_to, '"]'), o.sales_stage = h.to_stage,
			o.status = IF(h.to_stage = 'Closed Lost', 'Lost', 'Open'), o.stage_since = h.changed_on
		WHERE o.name LIKE %(like)s""",
		{"like": prefix + "-%"},
	)
	totals.refresh_like(prefix + "-%")  # what code writing the deals with raw SQL does
	frappe.db.commit()


def check_equal(filters: dict, fast_path=None):
	"""The fast path's numbers (`fast_path`: the summary's, or a private user's) are the straightforward
	computation's (as the tests check on a small pipeline), here at scale."""
	filters = frappe._dict(filters)
	fast, straight = (fast_path or fast_statistics)(filters), straightforward_statistics(filters)
	assert sorted(fast) == sorted(straight), (sorted(fast), sorted(straight))
	for stage, row in straight.items():
		got = fast[stage]
		assert (got.stays, got.moved_on) == (row.stays, row.moved_on), (stage, got, row)
		assert abs(got.median_days - row.median_days) < 0.005, (stage, got, row)
		assert abs(got.p75_days - row.p75_days) < 0.005, (stage, got, row)


def make_history(prefix: str, count: int):
	"""Per deal: a creation row and three stage changes a week or more apart, the last a week to a year
	ago; every seventh deal is lost from its third stage (raw SQL: a sequence table, which frappe.qb does
	not know)."""
	for step, (old, new) in enumerate(zip((None, *STAGES[:-1]), STAGES, strict=True)):
		frappe.db.sql(
			f"""
			INSERT INTO `tabOpportunity Stage History` (name, creation, modified, owner, modified_by,
				docstatus, idx, opportunity, changed_on, changed_by, via, assigned_to, from_stage, to_stage,
				stage_changed, days_in_previous_stage, old_amount, new_amount, old_probability,
				new_probability)
			SELECT CONCAT(%(prefix)s, '-', LPAD(seq, 7, '0'), '-', %(step)s), NOW(), NOW(), 'Administrator',
				'Administrator', 0, 0, CONCAT(%(prefix)s, '-', LPAD(seq, 7, '0')),
				NOW() - INTERVAL (7 + seq %% 300 + (3 - %(step)s) * 20) DAY - INTERVAL (seq %% 86400) SECOND,
				'Administrator', 'Backfill', CONCAT('bench-owner-', seq %% {OWNERS}, '@example.com'),
				%(old)s, IF(%(step)s = 3 AND seq %% 7 = 0, 'Closed Lost', %(new)s), 1,
				IF(%(step)s = 0, 0, (seq * 37 + %(step)s * 911) %% 6000 / 100), 0, seq, 0, 10
			FROM seq_1_to_{int(count)}""",
			{"prefix": prefix, "step": step, "old": old, "new": new},
		)
		frappe.db.commit()


def close_some(prefix: str):
	"""Every third deal won and every third lost, closed over the last year, lost ones on a reason and with
	a competitor row each seventh (for Win Loss)."""
	frappe.db.sql(
		"""UPDATE `tabOpportunity` SET
			status = IF(CAST(RIGHT(name, 7) AS UNSIGNED) %% 3 = 1, 'Won', 'Lost'),
			sales_stage = IF(CAST(RIGHT(name, 7) AS UNSIGNED) %% 3 = 1, 'Closed Won', 'Closed Lost'),
			loss_reason = IF(CAST(RIGHT(name, 7) AS UNSIGNED) %% 3 = 2, 'Price', NULL),
			base_amount = amount,
			closed_on = CURDATE() - INTERVAL (CAST(RIGHT(name, 7) AS UNSIGNED) %% 360) DAY
		WHERE name LIKE %(like)s AND CAST(RIGHT(name, 7) AS UNSIGNED) %% 3 != 0""",
		{"like": prefix + "-%"},
	)
	totals.refresh_like(prefix + "-%")
	frappe.db.commit()


def time_call(label: str, call, runs: int = 10):
	timings = []
	for _ in range(runs):
		started = time.perf_counter()
		call()
		timings.append((time.perf_counter() - started) * 1000)
	p95 = statistics.quantiles(timings, n=20)[-1]
	print(f"  {label}: p50 {statistics.median(timings):.0f} ms, p95 {p95:.0f} ms ({load()})", flush=True)


def load() -> str:
	return "load {:.1f} {:.1f} {:.1f}".format(*os.getloadavg())


def time_report(label: str, filters: dict, runs: int = 20, user: str = "Administrator"):
	only = os.environ.get("BENCH_ONLY")
	if only and not re.search(only, label):
		return
	frappe.set_user(user)
	timings = []
	try:
		run_report("Time in Stage", filters=filters)  # one warm-up call (caches, a fold): not timed
		for _ in range(runs):
			frappe.local.opportunity_suite_visibility = None  # read per request, as in the desk
			started = time.perf_counter()
			result = run_report("Time in Stage", filters=filters)
			timings.append((time.perf_counter() - started) * 1000)
	finally:
		frappe.set_user("Administrator")
	assert "result" in result, "the report ran as a prepared report"
	p95 = statistics.quantiles(timings, n=20)[-1]
	print(f"  {label}: p50 {statistics.median(timings):.0f} ms, p95 {p95:.0f} ms ({load()})", flush=True)


def measure():
	"""The report's timings for each filter (and the check that the fast path's numbers are right)."""
	if os.environ.get("BENCH_PROFILE"):
		import cProfile
		import pstats

		profile = cProfile.Profile()
		profile.runcall(run_report, "Time in Stage", filters={})
		pstats.Stats(profile).sort_stats("cumulative").print_stats(25)
	quarter = {"from_date": add_days(today(), -100), "to_date": add_days(today(), -10)}
	for filters in ({}, quarter, {"stage": "Qualification"}, {"assigned_to": owner(3)}):
		started = time.perf_counter()
		check_equal({"from_date": add_days(today(), -365), "to_date": today(), **filters})
		print(
			f"  fast == straightforward for {filters or 'the year'} ({time.perf_counter() - started:.0f} s)"
		)
	time_report("report, all deals, 12 months", {})
	time_report("report, all deals, a quarter", quarter)
	time_report("report, all deals, one stage", {"stage": "Qualification"})
	time_report("report, one assignee, 12 months", {"assigned_to": owner(3)})
	time_report("report, one assignee, a quarter", {"assigned_to": owner(3), **quarter})
	from opportunity_suite.services.visibility import PRIVATE

	old = set_visibility(PRIVATE)
	try:
		frappe.set_user(owner(3))
		for filters in ({}, quarter, {"stage": "Qualification"}):
			frappe.local.opportunity_suite_visibility = None
			check_equal(
				{"from_date": add_days(today(), -365), "to_date": today(), **filters}, visible_statistics
			)
			print(f"  private Sales User: visible == straightforward for {filters or 'the year'}", flush=True)
		frappe.set_user("Administrator")
		time_report("private: Sales Manager, 12 months", {}, user=MANAGER)
		time_report("private: Sales User, 12 months", {}, user=owner(3), runs=10)
		time_report("private: Sales User, a quarter", quarter, user=owner(3), runs=10)
		time_report("private: Sales User, one stage", {"stage": "Qualification"}, user=owner(3), runs=10)
	finally:
		set_visibility(old)


def run(count: int):
	prefix = "TIS" + frappe.generate_hash(length=4).upper()
	ensure_users()
	bulk_make_opportunities(count, prefix)
	try:
		started = time.perf_counter()
		make_history(prefix, count)
		match_history(prefix)
		print(
			f"{count:,} deals, {4 * count:,} history rows: {time.perf_counter() - started:.0f} s", flush=True
		)
		started = time.perf_counter()
		stage_stays.count_history("h.opportunity LIKE %(like)s", {"like": prefix + "-%"})
		frappe.db.commit()
		summary = frappe.db.count(stage_stays.DOCTYPE)
		print(f"  summary counted: {summary:,} rows in {time.perf_counter() - started:.1f} s", flush=True)
		measure()
		close_some(prefix)
		year = {"from_date": add_days(today(), -365), "to_date": today()}
		for dimension in ("Loss Reason", "Competitor", "Size Band"):
			time_call(
				f"Win Loss by {dimension}",
				lambda d=dimension: run_report("Win Loss", filters={**year, "dimension": d}),
			)
		time_call("Forecast Accuracy", lambda: run_report("Forecast Accuracy", filters={}))
		filters = frappe._dict(from_date=add_days(today(), -365), to_date=today())
		timings = []
		for _ in range(3):
			started = time.perf_counter()
			straightforward_statistics(filters)
			timings.append((time.perf_counter() - started) * 1000)
		print(f"  straightforward statistics (before): p50 {statistics.median(timings):.0f} ms ({load()})")
		if os.environ.get("BENCH_NO_STALE"):
			return
		started = time.perf_counter()
		refresh_all_stale()
		print(f"  refresh_all_stale: {time.perf_counter() - started:.1f} s ({load()})", flush=True)
	finally:
		if os.environ.get("BENCH_KEEP"):
			print(f"  kept: {prefix} (remove with: bench/time_in_stage.py --drop {prefix})", flush=True)
		else:
			drop(prefix)


def drop(prefix: str):
	"""Remove a run's deals, their history and its counts."""
	stage_stays.count_history("h.opportunity LIKE %(like)s", {"like": prefix + "-%"}, sign=-1)
	frappe.db.sql("DELETE FROM `tabOpportunity Stage History` WHERE name LIKE %s", (prefix + "-%",))
	delete_bulk_opportunities(prefix)


if __name__ == "__main__":
	if sys.argv[1:2] == ["--measure"]:  # the rows of a run kept with BENCH_KEEP=1
		measure()
		sys.exit()
	if sys.argv[1:2] == ["--drop"]:
		drop(sys.argv[2])
		frappe.db.commit()
		sys.exit()
	for count in [int(a) for a in sys.argv[1:]] or [100_000]:
		run(count)
