"""The bulk forecast recompute: every opportunity again with the settings' formula, in a background job
that survives a killed worker, as Opportunity Import does.

A run is one RQ job on the `long` queue, `opportunity_suite:recompute_forecasts::<run token>`; its state
lives in Opportunity Settings: status, run token, the formula it runs for, checkpoint (the last
opportunity done, in name order), heartbeat and counts. Each batch locks that state, checks the token,
writes its rows and moves the checkpoint in one transaction. So:
- a newer formula supersedes a run: saving it starts a new run (new token); the old job stops at its next
  batch, and its id never turns the new one away;
- a killed run is resumed from its checkpoint by the scheduler's watchdog (`resume_stalled_recompute`)
  once its job is dead (`background.job_is_alive`) and its heartbeat old;
- the settings show the truth: Queued, Running, Interrupted (no live job), Completed, Stopped or Failed,
  with the rows checked and updated."""

from contextlib import nullcontext

import frappe
from frappe import _
from frappe.query_builder.functions import Count, Max
from frappe.utils import add_to_date, cint, flt, get_datetime, now_datetime

from opportunity_suite.services import background, formula_sql, indexes, totals
from opportunity_suite.services.forecast import (
	DOCTYPE,
	SETTINGS,
	clear_settings_cache,
	currency_precision,
	forecast_values,
	get_compiled_formula,
	get_settings,
)
from opportunity_suite.services.forecast import (
	_rounding_method as rounding_method,
)

RECOMPUTE_JOB_ID = "opportunity_suite:recompute_forecasts"
RECOMPUTE_METHOD = "opportunity_suite.services.recompute.run_recompute_job"
RECOMPUTE_BATCH_SIZE = 5000
# a batch computed in the database costs little per row: larger batches, fewer commits and checkpoints
SQL_BATCH_SIZE = 50000
# a run with this many rows to go rewrites the forecasts without their index, made again after (at a
# million rows 12 s in all against 20 s keeping it: bench/recompute.py); below it the index is kept
BULK_FROM = 200_000
MAX_DEADLOCK_RETRIES = 5
STALL_AFTER_SECONDS = 120
QUEUED, RUNNING, INTERRUPTED, COMPLETED, STOPPED, FAILED = (
	"Queued",
	"Running",
	"Interrupted",
	"Completed",
	"Stopped",
	"Failed",
)
# the run's state in Opportunity Settings: written by the run only, never by a save of the form
STATE_FIELDS = (
	"last_recompute_status",
	"last_recompute_on",
	"last_recompute_rows",
	"recompute_formula",
	"recompute_checkpoint",
	"recompute_token",
	"recompute_heartbeat",
	"recompute_done",
	"recompute_total",
)


class Superseded(Exception):
	"""A newer run (a newer formula, or a resume) took over: this one stops without writing."""


def job_id(run_token: str) -> str:
	return f"{RECOMPUTE_JOB_ID}::{run_token[:12]}"


def read_state() -> frappe._dict:
	values = frappe.db.get_singles_dict(SETTINGS, cast=True)
	return frappe._dict({fieldname: values.get(fieldname) for fieldname in STATE_FIELDS})


def _set_state(values: dict):
	frappe.db.set_single_value(SETTINGS, values, update_modified=False)


# ---------------------------------------------------------------- start, resume, watchdog


def enqueue_recompute(batch_size: int | None = None) -> str:
	"""Start a new run for the current formula in the background; it supersedes any run going on.
	Queued after the caller's commit. Returns the job id."""
	clear_settings_cache()
	token = _new_run(get_settings().formula)
	return _enqueue(token, batch_size)


def _new_run(formula: str) -> str:
	token = frappe.generate_hash(length=16)
	_set_state(
		{
			"last_recompute_status": QUEUED,
			"recompute_token": token,
			"recompute_formula": formula,
			"recompute_checkpoint": "",
			"recompute_heartbeat": now_datetime(),
			"recompute_done": 0,
			"recompute_total": frappe.db.count(DOCTYPE),
			"last_recompute_rows": 0,
		}
	)
	return token


def _enqueue(token: str, batch_size: int | None = None) -> str:
	frappe.enqueue(
		RECOMPUTE_METHOD,
		queue="long",
		job_id=job_id(token),
		deduplicate=True,
		enqueue_after_commit=True,
		timeout=3 * 3600,
		run_token=token,
		batch_size=batch_size,
	)
	return job_id(token)


def is_alive(state: frappe._dict | None = None) -> bool:
	state = state or read_state()
	return bool(state.recompute_token) and background.job_is_alive(job_id(state.recompute_token))


def current_status(state: frappe._dict | None = None) -> str:
	"""The status as it is: a run left Queued or Running whose job is gone is Interrupted."""
	state = state or read_state()
	status = state.last_recompute_status or ""
	if status in (QUEUED, RUNNING) and not is_alive(state):
		return INTERRUPTED
	return status


def resume_stalled_recompute():
	"""Scheduler watchdog: a run left Queued or Running, with no live job and no progress lately,
	continues from its checkpoint in a new job (a new token: the dead job's id can't turn it away)."""
	state = read_state()
	if state.last_recompute_status not in (QUEUED, RUNNING):
		indexes.ensure_forecast_indexes()  # a big run killed before making its index again
		return
	heartbeat = get_datetime(state.recompute_heartbeat) if state.recompute_heartbeat else None
	if heartbeat and heartbeat > add_to_date(now_datetime(), seconds=-STALL_AFTER_SECONDS):
		return
	if is_alive(state):
		return
	if state.recompute_token:
		background.forget_job(job_id(state.recompute_token))
	token = frappe.generate_hash(length=16)
	_set_state(
		{"last_recompute_status": QUEUED, "recompute_token": token, "recompute_heartbeat": now_datetime()}
	)
	_enqueue(token)
	frappe.db.commit()


# ---------------------------------------------------------------- the run


def run_recompute_job(run_token: str, batch_size: int | None = None):
	"""The job: runs (or continues) the run `run_token`; stops quietly when a newer run took over."""
	recompute_all_forecasts(batch_size, run_token=run_token)


def recompute_all_forecasts(
	batch_size: int | None = None,
	publish: bool = True,
	run_token: str | None = None,
	use_sql: bool = True,
	bulk_from: int | None = None,
) -> int:
	"""Recompute every opportunity's forecast with the current formula, a batch per transaction, from the
	run's checkpoint. Without `run_token`, starts a new run here and now (superseding any other).

	Writes only rows whose values change, with one set-based UPDATE per batch (in the database where
	the formula has an exact SQL form: `_write_range_sql`); a batch that meets a deadlock with a user's
	save is read and written again. `modified` is not touched on either path: a recompute is not an edit
	(no history row, stale flag, Version or alert; the list's order by `modified`, an open form's save and
	"modified since" readers are not disturbed). If the formula changes under a run (written past the form), the run
	starts again with it. A run with `bulk_from` (BULK_FROM) rows or more to go drops the index holding
	the forecasts and makes it again when it stops. Returns the number of rows updated by this call."""
	if run_token is None:
		run_token = _new_run(get_settings().formula)
		frappe.db.commit()
	updated, deadlocks = 0, 0
	cache = {}
	# a big run rewrites most forecasts: without the index holding them, made again after (services/indexes.py)
	state = read_state()
	bulk = cint(state.recompute_total) - cint(state.recompute_done) >= (
		BULK_FROM if bulk_from is None else bulk_from
	)
	with indexes.without_forecast_index() if bulk else nullcontext():
		try:
			while True:
				state = _lock_state(run_token)
				if not cint(state.forecast_enabled if state.forecast_enabled is not None else 1):
					_finish(STOPPED)
					return updated
				formula_text = state.forecast_formula or get_settings().formula
				checkpoint = state.recompute_checkpoint or ""
				if formula_text != state.recompute_formula:  # changed past the form: start again with it
					checkpoint = ""
					_set_state(
						{"recompute_formula": formula_text, "recompute_done": 0, "last_recompute_rows": 0}
					)
					state.recompute_done = state.last_recompute_rows = 0
				if formula_text not in cache:
					cache.clear()
					formula = get_compiled_formula(formula_text)
					sql = use_sql and formula_sql.to_sql(
						formula.text, formula.fields, currency_precision(), rounding_method()
					)
					statement = sql and formula_sql.update_statement(sql)
					cache[formula_text] = (formula, sql or None, statement)
				formula, sql, statement = cache[formula_text]
				size = batch_size or (SQL_BATCH_SIZE if sql else RECOMPUTE_BATCH_SIZE)
				try:
					if sql:
						end, count = _range_end(checkpoint, size)
						written = count and _write_range_sql(sql, statement, formula, checkpoint, end, count)
					else:
						written, count, end = _write_range_python(formula, checkpoint, size)
					if written:  # the pre-aggregated totals' weighted sums, for the batch's key range
						totals.refresh_forecast_range(checkpoint, end)
				except frappe.QueryDeadlockError:
					frappe.db.rollback()
					deadlocks += 1
					if deadlocks > MAX_DEADLOCK_RETRIES:
						raise
					continue  # the same batch, read again
				if not count:
					_finish(COMPLETED)
					return updated
				done = cint(state.recompute_done) + count
				last = count < size  # nothing after it: the run completes with this batch
				_set_state(
					{
						"last_recompute_status": COMPLETED if last else RUNNING,
						"recompute_checkpoint": end,
						"recompute_done": done,
						"last_recompute_rows": cint(state.last_recompute_rows) + written,
						"recompute_heartbeat": now_datetime(),
						**({"last_recompute_on": now_datetime()} if last else {}),
					}
				)
				frappe.db.commit()
				updated += written
				if publish:
					total = cint(state.recompute_total) or 1
					frappe.publish_progress(
						min(100, done * 100 / total),
						title=_("Recomputing forecast amounts"),
						doctype=SETTINGS,
						docname=SETTINGS,
						description=_("{0} of {1} opportunities").format(done, total),
					)
				if last:
					totals.fold()
					return updated
		except Superseded:
			frappe.db.rollback()
			frappe.logger("opportunity_suite").info(f"forecast recompute {run_token} superseded")
			return updated
		except Exception:
			frappe.db.rollback()
			frappe.log_error(title=_("Forecast recompute failed"))
			try:
				_lock_state(run_token)
				_finish(FAILED)
			except Superseded:
				frappe.db.rollback()
			raise
		finally:
			clear_settings_cache()


def _lock_state(run_token: str) -> frappe._dict:
	"""Start the batch's transaction by locking the settings' rows (a save of the settings waits for the
	batch, and the batch sees the latest formula and token); raise Superseded if the token moved on.
	Raw SQL because frappe.qb can't lock the key-value rows of a single."""
	frappe.db.rollback()  # a new transaction, a fresh view
	rows = frappe.db.sql(
		"SELECT field, value FROM `tabSingles` WHERE doctype = %s FOR UPDATE", SETTINGS, as_dict=True
	)
	state = frappe._dict({row.field: row.value for row in rows})
	if state.recompute_token != run_token:
		raise Superseded(run_token)
	return state


def _finish(status: str):
	now = now_datetime()
	_set_state({"last_recompute_status": status, "last_recompute_on": now, "recompute_heartbeat": now})
	frappe.db.commit()


def _changes(rows: list, formula) -> list[tuple[str, str, float, float]]:
	precision, rounding = currency_precision(), rounding_method()
	changes = []
	for row in rows:
		forecast, base = forecast_values(row, formula, precision, rounding)
		if forecast != flt(row.forecast_amount) or base != flt(row.base_forecast_amount):
			changes.append((row.name, str(row.modified), forecast, base))
	return changes


def _read_batch(fields, after: str, batch_size: int, last: str | None = None) -> list[frappe._dict]:
	"""The next opportunities in name order after `after` (keyset pagination: no OFFSET), up to `last`."""
	table = frappe.qb.DocType(DOCTYPE)
	columns = [
		table.name,
		table.modified,
		table.exchange_rate,
		table.forecast_amount,
		table.base_forecast_amount,
	]
	columns += [table[f] for f in sorted(set(fields) - {"exchange_rate"})]
	query = frappe.qb.from_(table).select(*columns).where(table.name > after)
	if last is not None:
		query = query.where(table.name <= last)
	return query.orderby(table.name).limit(batch_size).run(as_dict=True)


def _read_rows(fields, names: list[str]) -> list[frappe._dict]:
	table = frappe.qb.DocType(DOCTYPE)
	columns = [table.name, table.modified, table.exchange_rate, table.forecast_amount]
	columns += [table.base_forecast_amount] + [table[f] for f in sorted(set(fields) - {"exchange_rate"})]
	return frappe.qb.from_(table).select(*columns).where(table.name.isin(names)).run(as_dict=True)


def _write_range_python(
	formula, after: str, size: int, last: str | None = None
) -> tuple[int, int, str | None]:
	"""The next `size` opportunities after `after` (up to `last`) read, computed in Python and written:
	the rows written, the batch's size and its last name."""
	rows = _read_batch(formula.fields, after, size, last)
	return _write_batch(_changes(rows, formula)), len(rows), rows[-1].name if rows else None


OUT_OF_RANGE = 1690  # MariaDB: "DOUBLE value is out of range" (Python's float gives an infinity there)


def _range_end(after: str, size: int) -> tuple[str | None, int]:
	"""The next batch after `after` in name order: its last name and its size (at most `size`). One row
	back, not the batch's names; the pages it reads are the ones the batch's UPDATE reads next."""
	table = frappe.qb.DocType(DOCTYPE)
	after_it = frappe.qb.from_(table).where(table.name > after)
	end = after_it.select(table.name).orderby(table.name).limit(1).offset(size - 1).run(pluck=True)
	if end:
		return end[0], size
	count, end = after_it.select(Count("*"), Max(table.name)).run()[0]  # the last batch, shorter
	return end, count


def _write_range_sql(
	sql: formula_sql.SqlForecast, statement: str, formula, after: str, last: str, count: int
) -> int:
	"""The batch (after, last] computed and written in the database by one UPDATE of the formula's SQL
	form (formula_sql.update_statement), the rows SQL can't settle computed in Python. A batch whose
	arithmetic overflows a DOUBLE runs in Python entirely (which logs the row and stores 0, as on a save).
	Returns the rows written."""
	try:
		result = formula_sql.update_range(sql, after, last, statement)
	except Exception as error:
		if not error.args or error.args[0] != OUT_OF_RANGE:
			raise
		return _write_range_python(formula, after, count, last)[0]
	written = result.written
	if result.unsure:
		written += _write_batch(_changes(_read_rows(formula.fields, result.unsure), formula))
	return written


def _write_batch(changes: list[tuple[str, str, float, float]]) -> int:
	"""One UPDATE for the whole batch: the new values travel as one JSON document joined on name.

	A row saved by a user since it was read (its `modified` moved) is left alone: that save computed
	its forecast with the current formula already. Raw SQL because frappe.qb has no JSON_TABLE; the
	only value is a bound parameter. Returns the number of rows written."""
	if not changes:
		return 0
	frappe.db.sql(
		"""
		UPDATE `tabOpportunity` o
		JOIN JSON_TABLE(%(rows)s, '$[*]' COLUMNS (
			n VARCHAR(140) PATH '$[0]',
			m DATETIME(6) PATH '$[1]',
			f DECIMAL(21, 9) PATH '$[2]',
			b DECIMAL(21, 9) PATH '$[3]'
		)) v ON o.name = v.n COLLATE utf8mb4_unicode_ci AND o.modified = v.m
		SET o.forecast_amount = v.f, o.base_forecast_amount = v.b
		""",
		{"rows": frappe.as_json(changes, indent=None)},
	)
	return frappe.db._cursor.rowcount


def keep_state(doc):
	"""A save of the settings form never writes the run's state back (the form holds an old copy)."""
	state = read_state()
	for fieldname in STATE_FIELDS:
		doc.set(fieldname, state.get(fieldname))
