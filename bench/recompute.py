"""Benchmark: the bulk forecast recompute over 100,000 and 1,000,000 opportunities.

	env/bin/python bench/recompute.py [--sql-only] [COUNT ...]     (default: 100000 1000000)

Inserts COUNT rows with stale forecasts (straight into the table), changes nothing else, times
`recompute_all_forecasts` (every row changes) through the Python path and through the formula's SQL form
(services/formula_sql.py) in the same run, checks both stored the same values, times the SQL path again
when no row changes (a run of BULK_FROM rows or more drops the forecast's index and makes it again after;
timed keeping it too), and one plain UPDATE of the same two columns (the database's own speed), with and
without that index (dropped for it and made again), prints rows
per second and the ratios, with the load average before and after, then removes the rows. `--sql-only`
skips the Python path (the slowest part at a million rows)."""

import os
import sys
import time

from _site import connect

frappe = connect()

from opportunity_suite.services import indexes  # noqa: E402
from opportunity_suite.services.recompute import BULK_FROM, recompute_all_forecasts  # noqa: E402
from tests.factories import bulk_make_opportunities, delete_bulk_opportunities  # noqa: E402


def _stale(prefix: str):
	frappe.db.sql(
		"update `tabOpportunity` set forecast_amount = -1, base_forecast_amount = -1 where name like %s",
		(prefix + "-%",),
	)
	frappe.db.commit()


def _timed(
	prefix: str, count: int, use_sql: bool, stale: bool = True, bulk_from: int | None = None
) -> tuple[float, list]:
	if stale:
		_stale(prefix)
	started = time.perf_counter()
	updated = recompute_all_forecasts(publish=False, use_sql=use_sql, bulk_from=bulk_from)
	elapsed = time.perf_counter() - started
	assert updated >= count if stale else updated == 0, (updated, count)
	values = frappe.db.sql(
		"select forecast_amount, base_forecast_amount from `tabOpportunity` where name like %s order by name",
		(prefix + "-%",),
	)
	return elapsed, values


def _floor(prefix: str) -> float:
	"""The database's own speed for the same write: one set-based UPDATE of the two columns, committed."""
	_stale(prefix)
	started = time.perf_counter()
	frappe.db.sql(
		"""update `tabOpportunity` set forecast_amount = round(amount * probability / 100, 2),
			base_forecast_amount = round(amount * probability / 100, 2) * exchange_rate where name like %s""",
		(prefix + "-%",),
	)
	frappe.db.commit()
	return time.perf_counter() - started


def _floor_without_index(prefix: str) -> tuple[float, float]:
	"""The same UPDATE with the forecast's index dropped (services/indexes.py), then the time to make it
	again (online, as the recompute does)."""
	frappe.db.sql_ddl(
		"alter table `tabOpportunity` "
		+ ", ".join(f"drop index `{f}`" for f in indexes.forecast_search_indexes())
	)
	try:
		bare = _floor(prefix)
	finally:
		started = time.perf_counter()
		indexes.ensure_forecast_indexes()
	return bare, time.perf_counter() - started


def _load() -> str:
	return "/".join(f"{load:.1f}" for load in os.getloadavg())


def run(count: int, sql_only: bool = False):
	prefix = "BENCH" + frappe.generate_hash(length=4).upper()
	before = frappe.db.count("Opportunity")
	started = time.perf_counter()
	bulk_make_opportunities(count, prefix)
	inserted = time.perf_counter() - started
	try:
		load = _load()
		python, by_python = _timed(prefix, count, use_sql=False) if not sql_only else (None, None)
		# the SQL path as a run of this size goes, and keeping the index, alternated twice (the first run
		# after the insert pays for its pending merges, whichever it is)
		kept_first, _values = _timed(prefix, count, use_sql=True, bulk_from=10**12)
		sql_first, _values = _timed(prefix, count, use_sql=True)
		kept, by_kept = _timed(prefix, count, use_sql=True, bulk_from=10**12)
		sql, by_sql = _timed(prefix, count, use_sql=True)
		unchanged, _values = _timed(prefix, 0, use_sql=True, stale=False)
		floor = _floor(prefix)
		bare, remade = _floor_without_index(prefix)
		wrong = frappe.db.sql(
			"select count(*) from `tabOpportunity` where name like %s and forecast_amount <> round(amount * probability / 100, 2)",
			(prefix + "-%",),
		)[0][0]
		through_python = (
			f"Python {python:7.2f} s ({count / python:9,.0f} rows/s, {python / sql:.1f}x the SQL path), "
			f"same values: {by_python == by_sql}; "
			if python
			else ""
		)
		print(
			f"recompute {count:>9,} rows (+{before:,} already there; inserted in {inserted:.1f} s), "
			f"load {load} → {_load()}: {through_python}SQL {sql:7.2f} s ({count / sql:9,.0f} rows/s, "
			f"{'without' if count >= BULK_FROM else 'with'} the forecast's index; first {sql_first:.2f} s), "
			f"keeping the index {kept:7.2f} s (first {kept_first:.2f} s), same values: {by_kept == by_sql}; again with nothing to change {unchanged:6.2f} s; "
			f"one plain UPDATE {floor:6.2f} s, without the index {bare:6.2f} s + {remade:5.2f} s to make it "
			f"again; SQL path / plain UPDATE {sql / floor:.2f}, / without the index and making it "
			f"{sql / (bare + remade):.2f}; wrong: {wrong}",
			flush=True,
		)
	finally:
		delete_bulk_opportunities(prefix)


if __name__ == "__main__":
	arguments = sys.argv[1:]
	counts = [int(a) for a in arguments if a != "--sql-only"] or [100_000, 1_000_000]
	for count in counts:
		run(count, sql_only="--sql-only" in arguments)
	frappe.destroy()
