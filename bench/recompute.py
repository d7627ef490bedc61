"""Benchmark: the bulk forecast recompute over 100,000 and 1,000,000 opportunities.

	env/bin/python bench/recompute.py [COUNT ...]     (default: 100000 1000000)

Inserts COUNT rows with stale forecasts (straight into the table), changes nothing else, times
`recompute_all_forecasts` (every row changes), prints rows per second, then removes the rows."""

import sys
import time

from _site import connect

frappe = connect()

from opportunity_suite.services.recompute import recompute_all_forecasts  # noqa: E402
from tests.factories import bulk_make_opportunities, delete_bulk_opportunities  # noqa: E402


def run(count: int):
	prefix = "BENCH" + frappe.generate_hash(length=4).upper()
	before = frappe.db.count("Opportunity")
	started = time.perf_counter()
	bulk_make_opportunities(count, prefix)
	inserted = time.perf_counter() - started
	try:
		started = time.perf_counter()
		updated = recompute_all_forecasts(publish=False)
		elapsed = time.perf_counter() - started
		assert updated >= count, (updated, count)
		wrong = frappe.db.sql(
			"select count(*) from `tabOpportunity` where name like %s and forecast_amount <> round(amount * probability / 100, 2)",
			(prefix + "-%",),
		)[0][0]
		print(
			f"recompute {count:>9,} rows (+{before:,} already there): {elapsed:7.2f} s, "
			f"{updated / elapsed:10,.0f} rows/s  (wrong: {wrong}; test rows inserted in {inserted:.1f} s)",
			flush=True,
		)
	finally:
		delete_bulk_opportunities(prefix)


if __name__ == "__main__":
	for count in [int(a) for a in sys.argv[1:]] or [100_000, 1_000_000]:
		run(count)
	frappe.destroy()
