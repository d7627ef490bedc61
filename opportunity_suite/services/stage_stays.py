"""Stage Stay Count: the Time in Stage report's summary of the Opportunity Stage History, kept in step.

A row counts the stays that ended in one span (a day, or a month), left one stage for another, and lasted a
whole number of days (`whole_days`, the floor of `days_in_previous_stage`). Three kinds of rows:
- Day rows over all deals (`span` Day, `assigned_to` ""): the ragged ends of a period;
- Month rows over all deals (`span` Month, `day` the month's first day): the whole months of a period;
- Month rows per assignee at the time (`assigned_to` the user): the report's Assigned To filter.
A period of a year is then about twelve months of a few thousand rows plus at most two months of day rows
(a year of day rows was 32,000 rows at 100,000 deals, and grows with the deals); an assignee's ragged ends
come from the history itself, on its (assigned_to, changed_on) index. The exact median and p75 are then
read from the history, in the one whole-day bucket that holds each wanted rank (services/time_in_stage.py).

Kept in step where the history is written and deleted — `history.insert_history` (every save, the
importer's multi-row INSERT, the backfill, an import's undo) and `history.delete_history` — in the same
transaction, with `INSERT … ON DUPLICATE KEY UPDATE` on a name made from the row's key (its MD5), keys in
sorted order so that concurrent saves lock rows in one order. `rebuild()` recounts it all from the history
(the migrate patch; a bench that writes history with raw SQL). Two rows with the same key (a stage rename
changes the links but not the names) are harmless: the report sums them."""

import calendar
import datetime
import hashlib
from collections import Counter

import frappe
from frappe.utils import add_days, cint, flt, get_datetime, getdate, now_datetime

DOCTYPE = "Stage Stay Count"
TABLE = "`tabStage Stay Count`"
HISTORY_TABLE = "`tabOpportunity Stage History`"
DAY, MONTH = "Day", "Month"
ALL = ""  # `assigned_to` of the rows over all deals
SEPARATOR = "\x1f"  # CHAR(31) in SQL: a character no stage name or user has
# raw SQL in this module: upserts and INSERT … SELECT … GROUP BY, which frappe.qb does not write
_UPSERT = (
	f"INSERT INTO {TABLE} (name, creation, modified, owner, modified_by, docstatus, idx, span, assigned_to,"
	" from_stage, to_stage, day, whole_days, stays) VALUES {values}"
	" ON DUPLICATE KEY UPDATE stays = stays + VALUES(stays), modified = VALUES(modified)"
)
_ENDED_STAY = "h.stage_changed = 1 AND IFNULL(h.from_stage, '') != ''"
_WHOLE_DAYS_SQL = "CAST(FLOOR(h.days_in_previous_stage) AS SIGNED)"
# each kind of row: its span, its `assigned_to`, its `day` as SQL on the history row `h`, which rows count
_KINDS_SQL = (
	(DAY, "''", "DATE(h.changed_on)", ""),
	(MONTH, "''", "DATE(h.changed_on) - INTERVAL (DAYOFMONTH(h.changed_on) - 1) DAY", ""),
	(
		MONTH,
		"h.assigned_to",
		"DATE(h.changed_on) - INTERVAL (DAYOFMONTH(h.changed_on) - 1) DAY",
		" AND IFNULL(h.assigned_to, '') != ''",
	),
)


def _name(span, assigned_to, from_stage, to_stage, day, whole_days) -> str:
	key = SEPARATOR.join(
		(span, assigned_to or "", from_stage or "", to_stage or "", str(day), str(whole_days))
	)
	return hashlib.md5(key.encode()).hexdigest()


def _key_sql(span: str, assigned_to_sql: str, day_sql: str) -> str:
	"""The SQL of `_name` (the same MD5 of the same text) for rows counted with INSERT … SELECT."""
	return (
		f"MD5(CONCAT_WS(CHAR(31), '{span}', IFNULL({assigned_to_sql}, ''), IFNULL(h.from_stage, ''),"
		f" IFNULL(h.to_stage, ''), {day_sql}, {_WHOLE_DAYS_SQL}))"
	)


def month_start(day: datetime.date) -> datetime.date:
	return day.replace(day=1)


def _keys(from_stage, to_stage, day, whole_days, assigned_to) -> list[tuple]:
	"""The summary rows one ended stay counts in."""
	month = month_start(day)
	keys = [
		(DAY, ALL, from_stage, to_stage, day, whole_days),
		(MONTH, ALL, from_stage, to_stage, month, whole_days),
	]
	if assigned_to:
		keys.append((MONTH, assigned_to, from_stage, to_stage, month, whole_days))
	return keys


def _upsert(counts: Counter):
	counts = Counter({key: n for key, n in counts.items() if n})
	if not counts:
		return
	now = now_datetime()
	keys = sorted(counts, key=lambda k: tuple(str(part or "") for part in k))
	for start in range(0, len(keys), 500):
		values, params = [], []
		for key in keys[start : start + 500]:
			values.append("(%s, %s, %s, 'Administrator', 'Administrator', 0, 0, %s, %s, %s, %s, %s, %s, %s)")
			params += [_name(*key), now, now, *key, counts[key]]
		frappe.db.sql(_UPSERT.format(values=", ".join(values)), params)


def add_rows(rows: list[dict]):
	"""Count the stays that the new history `rows` end (rows that changed the stage, from a stage)."""
	counts = Counter()
	for r in rows:
		if r and cint(r.get("stage_changed")) and r.get("from_stage"):
			day, whole_days = getdate(r["changed_on"]), int(flt(r["days_in_previous_stage"]))
			for key in _keys(r["from_stage"], r.get("to_stage"), day, whole_days, r.get("assigned_to")):
				counts[key] += 1
	_upsert(counts)


def remove_for(opportunities: list[str]):
	"""Uncount the stays of these deals' history (called before it is deleted)."""
	if not opportunities:
		return
	rows = frappe.db.sql(
		f"""SELECT h.from_stage, h.to_stage, DATE(h.changed_on), {_WHOLE_DAYS_SQL}, h.assigned_to, COUNT(*)
		FROM {HISTORY_TABLE} h WHERE h.opportunity IN %(names)s AND {_ENDED_STAY}
		GROUP BY 1, 2, 3, 4, 5""",
		{"names": tuple(opportunities)},
	)
	counts = Counter()
	for from_stage, to_stage, day, whole_days, assigned_to, n in rows:
		for key in _keys(from_stage, to_stage, getdate(day), int(whole_days), assigned_to):
			counts[key] -= int(n)
	_upsert(counts)
	if counts:
		frappe.db.sql(f"DELETE FROM {TABLE} WHERE stays <= 0")


def rebuild():
	"""Recount the whole summary from the history (idempotent)."""
	frappe.db.sql(f"DELETE FROM {TABLE}")
	count_history()


def count_history(condition: str = "1 = 1", values: dict | None = None, sign: int = 1):
	"""Add (sign 1) or take away (-1) the stays of the history rows matching the SQL `condition` on `h`
	(a benchmark that wrote or deletes its own rows with raw SQL)."""
	for span, assigned_to_sql, day_sql, only in _KINDS_SQL:
		frappe.db.sql(
			f"""INSERT INTO {TABLE} (name, creation, modified, owner, modified_by, docstatus, idx, span,
				assigned_to, from_stage, to_stage, day, whole_days, stays)
			SELECT {_key_sql(span, assigned_to_sql, day_sql)}, NOW(6), NOW(6), 'Administrator',
				'Administrator', 0, 0, '{span}', IFNULL({assigned_to_sql}, ''), h.from_stage, h.to_stage,
				{day_sql}, {_WHOLE_DAYS_SQL}, {int(sign)} * COUNT(*)
			FROM {HISTORY_TABLE} h WHERE {_ENDED_STAY}{only} AND ({condition})
			GROUP BY {"h.assigned_to, " if only else ""}h.from_stage, h.to_stage, {day_sql}, {_WHOLE_DAYS_SQL}
			ON DUPLICATE KEY UPDATE stays = stays + VALUES(stays)""",
			values or {},
		)
	if sign < 0:
		frappe.db.sql(f"DELETE FROM {TABLE} WHERE stays <= 0")


def split_period(from_date, to_date) -> tuple[tuple | None, list[tuple]]:
	"""The period from `from_date` to `to_date` (both included) as its whole months (the first days of the
	first and last, or None) and its ragged ends (day ranges, both ends included)."""
	start, end = getdate(from_date), getdate(to_date)
	if end < start:
		return None, []
	first = start if start.day == 1 else add_days(month_start(start), 32).replace(day=1)
	last_day = calendar.monthrange(end.year, end.month)[1]
	last = month_start(end) if end.day == last_day else add_days(month_start(end), -1).replace(day=1)
	if first > last:  # no whole month inside
		return None, [(start, end)]
	ragged = []
	if start < first:
		ragged.append((start, add_days(first, -1)))
	last_end = add_days(add_days(last, 32).replace(day=1), -1)
	if last_end < end:
		ragged.append((add_days(last_end, 1), end))
	return (first, last), ragged


def period_counts(
	from_date, to_date, assigned_to: str | None = None, stage: str | None = None
) -> list[tuple]:
	"""(from_stage, to_stage, whole_days, stays) of the stays that ended from `from_date` to `to_date`
	(both included), of all deals or of those assigned to `assigned_to` at the time, optionally of the
	stays in one `stage`."""
	months, ragged = split_period(from_date, to_date)
	ranges, values = [], {"who": assigned_to or ALL, "stage": stage}
	if months:
		ranges.append(f"(span = '{MONTH}' AND day >= %(m_first)s AND day <= %(m_last)s)")
		values.update(m_first=months[0], m_last=months[1])
	summary_ragged = [] if assigned_to else ragged
	for i, (low, high) in enumerate(summary_ragged):
		ranges.append(f"(span = '{DAY}' AND day >= %(low{i})s AND day <= %(high{i})s)")
		values.update({f"low{i}": low, f"high{i}": high})
	counts = Counter()
	if ranges:
		only_stage = " AND from_stage = %(stage)s" if stage else ""
		for from_stage, to_stage, whole_days, n in frappe.db.sql(
			f"""SELECT from_stage, to_stage, whole_days, SUM(stays) FROM {TABLE}
			WHERE assigned_to = %(who)s AND ({" OR ".join(ranges)}){only_stage}
			GROUP BY from_stage, to_stage, whole_days""",
			values,
		):
			counts[(from_stage, to_stage, int(whole_days))] += int(n)
	if assigned_to:
		for low, high in ragged:
			for from_stage, to_stage, whole_days, n in _assignee_history_counts(
				assigned_to, low, high, stage
			):
				counts[(from_stage, to_stage, int(whole_days))] += int(n)
	return [(*key, n) for key, n in counts.items() if n > 0]


def viewer_history_counts(keys: list[str], from_date, to_date, stage: str | None = None) -> list[tuple]:
	"""(from_stage, to_stage, whole_days, stays) of the stays of the deals of these viewer keys
	(services/stage_viewers.py) that ended from `from_date` to `to_date` (both included), optionally of one
	`stage`: the period's range of each key on the history's (viewer_key, changed_on) index, read from the
	index alone. (A summary per key and month would not be smaller: a key's month has about as many
	(stage left, stage entered, whole days) as stays — 1.5 stays a row at 100,000 deals.)"""
	if not keys:
		return []
	start, end = day_bounds(from_date, to_date)
	only_stage = " AND h.from_stage = %(stage)s" if stage else ""
	return frappe.db.sql(
		f"""SELECT h.from_stage, h.to_stage, {_WHOLE_DAYS_SQL}, COUNT(*)
		FROM {HISTORY_TABLE} h FORCE INDEX (viewer_period_index)
		WHERE h.viewer_key IN %(keys)s AND h.changed_on >= %(start)s AND h.changed_on < %(end)s
			AND {_ENDED_STAY}{only_stage}
		GROUP BY h.from_stage, h.to_stage, {_WHOLE_DAYS_SQL}""",
		{"keys": tuple(keys), "start": start, "end": end, "stage": stage},
	)


def _assignee_history_counts(assigned_to: str, low, high, stage: str | None) -> list[tuple]:
	"""The stays of `assigned_to` that ended from day `low` to `high` (both included), from the history on
	its (assigned_to, changed_on) index: the ragged ends of a period have no month rows."""
	start, end = day_bounds(low, high)
	only_stage = " AND h.from_stage = %(stage)s" if stage else ""
	return frappe.db.sql(
		f"""SELECT h.from_stage, h.to_stage, {_WHOLE_DAYS_SQL}, COUNT(*)
		FROM {HISTORY_TABLE} h FORCE INDEX (assignee_period_index)
		WHERE h.assigned_to = %(user)s AND h.changed_on >= %(start)s AND h.changed_on < %(end)s
			AND {_ENDED_STAY}{only_stage}
		GROUP BY h.from_stage, h.to_stage, {_WHOLE_DAYS_SQL}""",
		{"user": assigned_to, "start": start, "end": end, "stage": stage},
	)


def day_bounds(from_date, to_date) -> tuple:
	"""The history's `changed_on` range for the days from `from_date` to `to_date` (both included)."""
	return get_datetime(getdate(from_date)), get_datetime(add_days(getdate(to_date), 1))
