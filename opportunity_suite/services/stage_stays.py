"""Stage Stay Count: the Time in Stage report's summary of the Opportunity Stage History, kept in step.

A row counts the stays that ended on one day, left one stage for another, and lasted a whole number of days
(`whole_days`, the floor of `days_in_previous_stage`). A year of history at a million deals is a few million
stays; its summary is a few hundred thousand rows at most, which the report sums for a period in one
indexed range: the stays per stage (conversion) and their histogram by whole days. The exact median and p75
are then read from the history itself, in the one whole-day bucket that holds each wanted rank (an indexed
range of a few thousand rows: services/time_in_stage.py).

Kept in step where the history is written and deleted — `history.insert_history` (every save, the
importer's multi-row INSERT, the backfill, an import's undo) and `history.delete_history` — in the same
transaction, with `INSERT … ON DUPLICATE KEY UPDATE` on a name made from the row's key (its MD5), keys in
sorted order so that concurrent saves lock rows in one order. `rebuild()` recounts it all from the history
(the migrate patch; a bench that writes history with raw SQL). Two rows with the same key (a stage rename
changes the links but not the names) are harmless: the report sums them."""

import hashlib
from collections import Counter

import frappe
from frappe.utils import cint, flt, get_datetime, getdate, now_datetime

DOCTYPE = "Stage Stay Count"
TABLE = "`tabStage Stay Count`"
HISTORY_TABLE = "`tabOpportunity Stage History`"
SEPARATOR = "\x1f"  # CHAR(31) in SQL: a character no stage name has
# raw SQL in this module: upserts and INSERT … SELECT … GROUP BY, which frappe.qb does not write
_UPSERT = (
	f"INSERT INTO {TABLE} (name, creation, modified, owner, modified_by, docstatus, idx, from_stage, to_stage,"
	" day, whole_days, stays) VALUES {values} ON DUPLICATE KEY UPDATE stays = stays + VALUES(stays),"
	" modified = VALUES(modified)"
)
_KEY_SQL = (
	"MD5(CONCAT_WS(CHAR(31), IFNULL(h.from_stage, ''), IFNULL(h.to_stage, ''), DATE(h.changed_on),"
	" CAST(FLOOR(h.days_in_previous_stage) AS SIGNED)))"
)
_ENDED_STAY = "h.stage_changed = 1 AND IFNULL(h.from_stage, '') != ''"


def _name(from_stage, to_stage, day, whole_days) -> str:
	key = SEPARATOR.join((from_stage or "", to_stage or "", str(day), str(whole_days)))
	return hashlib.md5(key.encode()).hexdigest()


def _upsert(counts: Counter):
	if not counts:
		return
	now = now_datetime()
	for start in range(0, len(counts), 500):
		keys = sorted(counts)[start : start + 500]
		values, params = [], []
		for from_stage, to_stage, day, whole_days in keys:
			values.append("(%s, %s, %s, 'Administrator', 'Administrator', 0, 0, %s, %s, %s, %s, %s)")
			params += [
				_name(from_stage, to_stage, day, whole_days),
				now,
				now,
				from_stage,
				to_stage,
				day,
				whole_days,
				counts[(from_stage, to_stage, day, whole_days)],
			]
		frappe.db.sql(_UPSERT.format(values=", ".join(values)), params)


def add_rows(rows: list[dict]):
	"""Count the stays that the new history `rows` end (rows that changed the stage, from a stage)."""
	counts = Counter(
		(r["from_stage"], r.get("to_stage"), getdate(r["changed_on"]), int(flt(r["days_in_previous_stage"])))
		for r in rows
		if r and cint(r.get("stage_changed")) and r.get("from_stage")
	)
	_upsert(counts)


def remove_for(opportunities: list[str]):
	"""Uncount the stays of these deals' history (called before it is deleted)."""
	if not opportunities:
		return
	rows = frappe.db.sql(
		f"""SELECT h.from_stage, h.to_stage, DATE(h.changed_on), CAST(FLOOR(h.days_in_previous_stage) AS SIGNED),
			COUNT(*)
		FROM {HISTORY_TABLE} h WHERE h.opportunity IN %(names)s AND {_ENDED_STAY}
		GROUP BY 1, 2, 3, 4""",
		{"names": tuple(opportunities)},
	)
	_upsert(Counter({(f, t, getdate(d), int(w)): -n for f, t, d, w, n in rows}))
	frappe.db.sql(f"DELETE FROM {TABLE} WHERE stays <= 0")


def rebuild():
	"""Recount the whole summary from the history (idempotent)."""
	frappe.db.sql(f"DELETE FROM {TABLE}")
	count_history()


def count_history(condition: str = "1 = 1", values: dict | None = None, sign: int = 1):
	"""Add (sign 1) or take away (-1) the stays of the history rows matching the SQL `condition` on `h`
	(a benchmark that wrote or deletes its own rows with raw SQL)."""
	frappe.db.sql(
		f"""INSERT INTO {TABLE} (name, creation, modified, owner, modified_by, docstatus, idx, from_stage,
			to_stage, day, whole_days, stays)
		SELECT {_KEY_SQL}, NOW(6), NOW(6), 'Administrator', 'Administrator', 0, 0, h.from_stage, h.to_stage,
			DATE(h.changed_on), CAST(FLOOR(h.days_in_previous_stage) AS SIGNED), {int(sign)} * COUNT(*)
		FROM {HISTORY_TABLE} h WHERE {_ENDED_STAY} AND ({condition})
		GROUP BY h.from_stage, h.to_stage, DATE(h.changed_on), CAST(FLOOR(h.days_in_previous_stage) AS SIGNED)
		ON DUPLICATE KEY UPDATE stays = stays + VALUES(stays)""",
		values or {},
	)
	if sign < 0:
		frappe.db.sql(f"DELETE FROM {TABLE} WHERE stays <= 0")


def period_counts(from_date, to_date) -> list[tuple]:
	"""(from_stage, to_stage, whole_days, stays) of the stays that ended from `from_date` to `to_date`
	(both included)."""
	return frappe.db.sql(
		f"""SELECT from_stage, to_stage, whole_days, SUM(stays) FROM {TABLE}
		WHERE day >= %(from)s AND day <= %(to)s
		GROUP BY from_stage, to_stage, whole_days HAVING SUM(stays) > 0""",
		{"from": getdate(from_date), "to": getdate(to_date)},
	)


def day_bounds(from_date, to_date) -> tuple:
	"""The history's `changed_on` range for the days from `from_date` to `to_date` (both included)."""
	from frappe.utils import add_days

	return get_datetime(getdate(from_date)), get_datetime(add_days(getdate(to_date), 1))
