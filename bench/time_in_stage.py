"""Benchmark: the Time in Stage report and the stale radar's daily refresh over COUNT opportunities with
three stage changes each (4 history rows per deal).

	env/bin/python bench/time_in_stage.py [COUNT ...]     (default: 100000)

Inserts the deals and their history straight into the tables, runs the report 20 times (as Administrator,
the last 12 months) and prints p50/p95, times `refresh_all_stale` once, then removes the rows."""

import statistics
import sys
import time

from _site import connect

frappe = connect()

from frappe.desk.query_report import run as run_report  # noqa: E402

from opportunity_suite.services.stale import refresh_all_stale  # noqa: E402
from tests.factories import bulk_make_opportunities, delete_bulk_opportunities  # noqa: E402

STAGES = ("Prospecting", "Qualification", "Needs Analysis", "Value Proposition")


def make_history(prefix: str, count: int):
	"""Per deal: a creation row and three stage changes, the stays 1–30 days long (raw SQL: a sequence
	table, which frappe.qb does not know)."""
	for step, (old, new) in enumerate(zip((None, *STAGES[:-1]), STAGES, strict=True)):
		frappe.db.sql(
			f"""
			INSERT INTO `tabOpportunity Stage History` (name, creation, modified, owner, modified_by,
				docstatus, idx, opportunity, changed_on, changed_by, via, assigned_to, from_stage, to_stage,
				stage_changed, days_in_previous_stage, old_amount, new_amount, old_probability,
				new_probability)
			SELECT CONCAT(%(prefix)s, '-', LPAD(seq, 7, '0'), '-', %(step)s), NOW(), NOW(), 'Administrator',
				'Administrator', 0, 0, CONCAT(%(prefix)s, '-', LPAD(seq, 7, '0')),
				NOW() - INTERVAL (90 - %(step)s * 20) DAY, 'Administrator', 'Backfill', 'Administrator',
				%(old)s, %(new)s, 1, IF(%(step)s = 0, 0, 1 + seq %% 30), 0, seq, 0, 10
			FROM seq_1_to_{int(count)}""",
			{"prefix": prefix, "step": step, "old": old, "new": new},
		)
	frappe.db.commit()


def run(count: int):
	prefix = "TIS" + frappe.generate_hash(length=4).upper()
	bulk_make_opportunities(count, prefix)
	try:
		make_history(prefix, count)
		timings = []
		for _ in range(20):
			started = time.perf_counter()
			run_report("Time in Stage", filters={})
			timings.append((time.perf_counter() - started) * 1000)
		p95 = statistics.quantiles(timings, n=20)[-1]
		print(
			f"Time in Stage over {count:,} deals ({4 * count:,} history rows): "
			f"p50 {statistics.median(timings):.0f} ms, p95 {p95:.0f} ms",
			flush=True,
		)
		started = time.perf_counter()
		refresh_all_stale()
		print(f"refresh_all_stale: {time.perf_counter() - started:.1f} s", flush=True)
	finally:
		frappe.db.sql("DELETE FROM `tabOpportunity Stage History` WHERE name LIKE %s", (prefix + "-%",))
		delete_bulk_opportunities(prefix)


if __name__ == "__main__":
	for count in [int(a) for a in sys.argv[1:]] or [100_000]:
		run(count)
