"""The Time in Stage report, from the Opportunity Stage History.

A stay in a stage ends with a history row that changed the stage: its `from_stage` is the stage left,
`days_in_previous_stage` how long the deal sat there, `changed_on` when it left. Per stage, over the stays
that ended in the period (and, with the filter, by deals assigned to one user at the time):
- median and p75 days (MariaDB's PERCENTILE_CONT: linear interpolation, as numpy's default);
- conversion: the share of those stays that moved the deal on, to a later open stage or a won one;
- the open deals in the stage now that have sat there more than twice its median: flagged, listed under it.

Only the history of deals the user may read is counted: the SQL carries Frappe's own match conditions for
the history DocType (its visibility follows the opportunity), and the open deals are read with get_list.

Fast at a million deals: a user who reads all the history (no match condition) gets the numbers from the
Stage Stay Count summary (services/stage_stays.py) and each percentile from one short indexed range of the
history; with the Assigned To filter, from that assignee's index range. A user who reads only some deals
gets `straightforward_statistics`, over the rows they may read."""

import math
from collections import Counter
from typing import NamedTuple

import frappe
from frappe import _
from frappe.desk.reportview import get_match_cond
from frappe.model.db_query import DatabaseQuery
from frappe.utils import add_days, cint, flt, get_datetime, getdate, now_datetime, today

from opportunity_suite.services import stage_stays, stage_viewers, totals, visibility
from opportunity_suite.services.list_fields import aggregate

HISTORY = "Opportunity Stage History"
TABLE = "`tabOpportunity Stage History`"
FLAG_FACTOR = 2
LISTED_PER_STAGE = 50


def columns() -> list[dict]:
	return [
		{
			"fieldname": "stage",
			"label": _("Stage"),
			"fieldtype": "Link",
			"options": "Opportunity Stage",
			"width": 170,
		},
		{
			"fieldname": "opportunity",
			"label": _("Opportunity"),
			"fieldtype": "Link",
			"options": "Opportunity",
			"width": 130,
		},
		{"fieldname": "stays", "label": _("Stays Ended"), "fieldtype": "Int", "width": 100},
		{
			"fieldname": "median_days",
			"label": _("Median Days"),
			"fieldtype": "Float",
			"precision": 1,
			"width": 110,
		},
		{"fieldname": "p75_days", "label": _("P75 Days"), "fieldtype": "Float", "precision": 1, "width": 100},
		{"fieldname": "moved_on", "label": _("Moved On"), "fieldtype": "Int", "width": 90},
		{"fieldname": "conversion", "label": _("Conversion %"), "fieldtype": "Percent", "width": 110},
		{"fieldname": "open_now", "label": _("Open Now"), "fieldtype": "Int", "width": 90},
		{"fieldname": "flagged", "label": _("Over 2× Median"), "fieldtype": "Int", "width": 120},
		{
			"fieldname": "days_in_stage",
			"label": _("Days in Stage"),
			"fieldtype": "Float",
			"precision": 1,
			"width": 110,
		},
		{
			"fieldname": "assigned_to",
			"label": _("Assigned To"),
			"fieldtype": "Link",
			"options": "User",
			"width": 160,
		},
	]


def _conditions(filters: frappe._dict, match: bool = True) -> tuple[str, dict]:
	# raw SQL: frappe.qb has no PERCENTILE_CONT … WITHIN GROUP; values are parameters, the match condition
	# is Frappe's own (get_match_cond), written for the history table under its full name (`match` False:
	# the period and filters alone, for the visible path, which applies the visibility itself)
	values = {
		"from": get_datetime(getdate(filters.from_date)),
		"to": get_datetime(add_days(getdate(filters.to_date), 1)),
	}
	sql = (
		"`tabOpportunity Stage History`.`stage_changed` = 1"
		" AND IFNULL(`tabOpportunity Stage History`.`from_stage`, '') != ''"
		" AND `tabOpportunity Stage History`.`changed_on` >= %(from)s"
		" AND `tabOpportunity Stage History`.`changed_on` < %(to)s"
	)
	if filters.assigned_to:
		sql += " AND `tabOpportunity Stage History`.`assigned_to` = %(assigned_to)s"
		values["assigned_to"] = filters.assigned_to
	if filters.stage:
		sql += " AND `tabOpportunity Stage History`.`from_stage` = %(stage)s"
		values["stage"] = filters.stage
	return (sql + " " + get_match_cond(HISTORY) if match else sql), values


class SummaryOutOfStep(Exception):
	"""The Stage Stay Count summary doesn't count what the history holds (rows written past the two
	functions that keep it: `stage_stays.rebuild()` recounts it)."""


def stage_statistics(filters: frappe._dict) -> dict[str, frappe._dict]:
	"""Per stage left: stays, moved_on, median_days, p75_days over the period (and assignee, and stage)."""
	reader = _reader()
	if reader == VISIBLE:  # the private visibility alone narrows the user's view: their deals' rows
		try:
			return (
				visible_statistics(filters) if stage_viewers.ready() else straightforward_statistics(filters)
			)
		except SummaryOutOfStep:  # (the history changed between the two reads: not in one transaction)
			return straightforward_statistics(filters)
	if reader != ALL:  # narrowed by something else too (a User Permission, a hook): Frappe's own query
		return straightforward_statistics(filters)
	try:
		return fast_statistics(filters)
	except SummaryOutOfStep:
		frappe.log_error(title=_("Time in Stage: the Stage Stay Count summary is out of step; recount it"))
		return straightforward_statistics(filters)


def fast_statistics(filters: frappe._dict) -> dict[str, frappe._dict]:
	"""The same numbers from the Stage Stay Count summary (whole months from its month rows — all deals' or
	the assignee's —, the ragged ends from its day rows or the assignee's history), the two percentiles of
	each stage read exactly as the values at their ranks (PERCENTILE_CONT's linear interpolation between
	the values at ranks floor and ceil of p × (n − 1)), all of them in one statement."""
	counts = stage_stays.period_counts(
		filters.from_date, filters.to_date, assigned_to=filters.assigned_to, stage=filters.stage
	)
	start, end = stage_stays.day_bounds(filters.from_date, filters.to_date)
	if filters.assigned_to:  # that assignee's stays, on their index
		scope = Scope("assignee_stage_stay_index", " AND h.assigned_to = %s", [filters.assigned_to])
	else:
		scope = Scope("stage_stay_duration_index", "", [])
	return _statistics_of_counts(counts, scope, start, end)


class Scope(NamedTuple):
	"""Which history rows a percentile is read from: those of an index's ranges (`index`, with the SQL
	`condition` on `h` and its `params` after the stage's), and `extras`, the (from_stage, days) of a few
	rows outside them that count too (a private user's shared rows)."""

	index: str
	condition: str
	params: list
	extras: tuple = ()


def _statistics_of_counts(counts, scope: Scope, start, end) -> dict[str, frappe._dict]:
	"""Per stage left: stays, moved_on, median_days, p75_days from the (from_stage, to_stage, whole_days,
	stays) counts of the period's stays, each percentile read as the values at its ranks (`scope`)."""
	stages = _stages()
	stats, histograms = {}, {}
	for from_stage, to_stage, whole_days, n in counts:
		n = int(n)
		row = stats.setdefault(from_stage, frappe._dict(stage=from_stage, stays=0, moved_on=0, total=0))
		row.total += n
		left, entered = stages.get(from_stage), stages.get(to_stage)
		if left:  # as the straightforward query's join: stays of a stage that no longer exists aren't counted
			row.stays += n
			if _moves_on(left, entered):
				row.moved_on += n
		histograms.setdefault(from_stage, Counter())[int(whole_days)] += n
	wanted = {
		stage: {p: _ranks(p, row.total) for p in PERCENTILES} for stage, row in stats.items() if row.total
	}
	values = _values_at_ranks(
		{stage: sorted({r for ranks in by_p.values() for r in ranks}) for stage, by_p in wanted.items()},
		histograms,
		scope,
		start,
		end,
	)
	for stage, row in stats.items():
		for p, fieldname in PERCENTILES.items():
			row[fieldname] = flt(_interpolate(p, row.total, values[stage]), 2)
		del row["total"]
	return stats


PERCENTILES = {0.5: "median_days", 0.75: "p75_days"}
ALL, VISIBLE, OTHER = "all", "visible", "other"


def _reader() -> str:
	"""How the session user's view of the history is narrowed: not at all (ALL), by exactly the app's
	record visibility (VISIBLE: no User Permission, no other hook, not a reader of shared rows only), or
	otherwise (OTHER)."""
	user = frappe.session.user
	query = DatabaseQuery(HISTORY, user=user)
	match = query.build_match_conditions(as_condition=True)
	if not match and not query.conditions:
		return ALL
	if (
		not query.conditions
		and not query.shared
		and not visibility.sees_everything(user)
		and match == visibility.follower_condition(user, HISTORY)
	):
		return VISIBLE
	return OTHER


def _moves_on(left, entered) -> bool:
	"""Whether a stay in stage `left` that ended in `entered` moved the deal on (a later open stage, or won),
	as the straightforward query's CASE."""
	return bool(
		entered
		and (
			entered.stage_type == "Won"
			or (entered.stage_type == "Open" and cint(entered.sequence) > cint(left.sequence))
		)
	)


def _stages() -> dict:
	return {s.name: s for s in frappe.get_all("Opportunity Stage", fields=["name", "stage_type", "sequence"])}


def _ranks(fraction: float, count: int) -> tuple[int, ...]:
	"""The 0-based ranks whose values PERCENTILE_CONT(fraction) interpolates between."""
	position = fraction * (count - 1)
	lower = math.floor(position)
	return (lower,) if position == lower else (lower, lower + 1)


def _interpolate(fraction: float, count: int, value_at: dict[int, float]) -> float:
	position = fraction * (count - 1)
	lower = math.floor(position)
	low = value_at[lower]
	if position == lower:
		return low
	return low + (position - lower) * (value_at[lower + 1] - low)


def _values_at_ranks(ranks: dict[str, list[int]], histograms: dict, scope: Scope, start, end) -> dict:
	"""stage → {rank: duration}: the durations at those 0-based ranks among the stage's stays in the
	period (in duration order). Each rank lies in one whole-day bucket of the stage's histogram; the ranks
	of a bucket next to each other are read with one `ORDER BY … LIMIT offset, n` on the bucket's short
	index range (the scope's: all deals', one assignee's, the keys a private user sees), and all the reads
	go in one UNION ALL (one round trip instead of up to four per stage). A bucket holding some of the
	scope's extras is read from its start and merged with them."""
	parts, params, wanted = [], [], []
	extras: dict[tuple, list[float]] = {}
	for from_stage, days in scope.extras:
		extras.setdefault((from_stage, math.floor(days)), []).append(days)
	for stage, stage_ranks in ranks.items():
		for whole_days, offsets in _by_bucket(stage_ranks, histograms[stage]):
			extra = sorted(extras.get((stage, whole_days), []))
			for first, count in _runs(offsets):
				tag = len(wanted)
				wanted.append((stage, whole_days, first, count, extra))
				offset, limit = (0, first + count) if extra else (first, count)
				# raw SQL: ORDER BY … LIMIT offset on a named index in a UNION ALL, which frappe.qb does not write
				parts.append(
					f"""(SELECT {tag} AS tag, h.days_in_previous_stage FROM {TABLE} h FORCE INDEX ({scope.index})
					WHERE h.stage_changed = 1 AND h.from_stage = %s{scope.condition}
						AND h.days_in_previous_stage >= %s AND h.days_in_previous_stage < %s
						AND h.changed_on >= %s AND h.changed_on < %s
					ORDER BY h.days_in_previous_stage LIMIT {int(offset)}, {int(limit)})"""
				)
				params += [stage, *scope.params, whole_days, whole_days + 1, start, end]
	read: dict[int, list[float]] = {}
	if parts:
		for tag, value in frappe.db.sql(" UNION ALL ".join(parts), params):
			read.setdefault(int(tag), []).append(float(value))
	values: dict[str, dict[int, float]] = {stage: {} for stage in ranks}
	for tag, (stage, whole_days, first, count, extra) in enumerate(wanted):
		got = sorted(read.get(tag, []) + extra)[first : first + count] if extra else sorted(read.get(tag, []))
		if len(got) != count:  # the summary and the history disagree (history written past them)
			raise SummaryOutOfStep(stage)
		before = _bucket_start(histograms[stage], whole_days)
		for i, value in enumerate(got):
			values[stage][before + first + i] = value
	return values


def _bucket_start(histogram: Counter, whole_days: int) -> int:
	return sum(n for days, n in histogram.items() if days < whole_days)


def _by_bucket(stage_ranks: list[int], histogram: Counter) -> list[tuple[int, list[int]]]:
	"""The sorted ranks grouped by the whole-day bucket that holds them, as offsets within the bucket."""
	buckets, before, found = sorted(histogram.items()), 0, {}
	position = 0
	for whole_days, n in buckets:
		while position < len(stage_ranks) and stage_ranks[position] < before + n:
			found.setdefault(whole_days, []).append(stage_ranks[position] - before)
			position += 1
		before += n
	if position < len(stage_ranks):
		raise IndexError(stage_ranks[position])
	return sorted(found.items())


def _runs(offsets: list[int]) -> list[tuple[int, int]]:
	"""Sorted offsets as (first, count) runs of neighbours (a gap of a few rows is read through)."""
	runs = []
	for offset in offsets:
		if runs and offset - (runs[-1][0] + runs[-1][1]) <= 2:
			runs[-1] = (runs[-1][0], offset - runs[-1][0] + 1)
		else:
			runs.append((offset, 1))
	return runs


def visible_statistics(filters: frappe._dict) -> dict[str, frappe._dict]:
	"""The statistics over the history a private user reads (services/visibility.py's follower condition:
	rows of no deal, rows of the deals they see, rows shared with them), the same numbers as
	`straightforward_statistics`. That condition ORs a subquery over every opportunity (`_assign` has no
	index), which MariaDB evaluates once per history row; here the deals they see are their viewer keys
	(services/stage_viewers.py): the period's stays of those keys are counted per stage, stage entered and
	whole day from the history's `viewer_period_index` alone, the period's range of each key (with the
	Assigned To filter, from its `viewer_stay_index`, which holds the assignee), and each percentile is read
	at its ranks as the summary's path does (`_values_at_ranks`). The few other rows they read — of no deal, of a deal
	shared with them, shared themselves — are read one by one and counted too (each row once)."""
	user = frappe.session.user
	where, values = _conditions(filters, match=False)
	own = where.replace(f"{TABLE}.", "h.")
	keys = stage_viewers.visible_keys(visibility.team_condition(user, "k"))
	counts = Counter()
	if keys and not filters.assigned_to:  # the period's range of each key, on the period index
		for from_stage, to_stage, whole_days, n in stage_stays.viewer_history_counts(
			keys, filters.from_date, filters.to_date, filters.stage
		):
			counts[(from_stage, to_stage, int(whole_days))] += int(n)
	elif keys:  # (one assignee's stays of their keys: by stage and duration, with the assignee, on this one)
		values["keys"] = tuple(keys)
		# raw SQL: a GROUP BY on an expression over a named index, which frappe.qb does not write
		# (`from_stage > ''`: the condition's IFNULL(…) != '' as a range of the index, past the creation rows)
		for from_stage, to_stage, whole_days, n in frappe.db.sql(
			f"""SELECT h.from_stage, h.to_stage, FLOOR(h.days_in_previous_stage), COUNT(*)
			FROM {TABLE} h FORCE INDEX ({stage_viewers.INDEX})
			WHERE h.viewer_key IN %(keys)s AND h.from_stage > '' AND {own}
			GROUP BY h.from_stage, h.to_stage, FLOOR(h.days_in_previous_stage)""",
			values,
		):
			counts[(from_stage, to_stage, int(whole_days))] += int(n)
	extras = _other_visible_rows(user, own, values, set(keys))
	for from_stage, to_stage, days in extras:
		counts[(from_stage, to_stage, math.floor(days))] += 1
	start, end = stage_stays.day_bounds(filters.from_date, filters.to_date)
	who = " AND h.assigned_to = %s" if filters.assigned_to else ""
	scope = Scope(
		stage_viewers.INDEX,
		f" AND h.viewer_key IN ({', '.join(['%s'] * len(keys))}){who}" if keys else " AND 1 = 0",
		[*keys, *([filters.assigned_to] if filters.assigned_to else [])] if keys else [],
		tuple((from_stage, days) for from_stage, _to, days in extras),
	)
	return _statistics_of_counts([(*key, n) for key, n in counts.items()], scope, start, end)


def _other_visible_rows(user: str, own: str, values: dict, keys: set) -> list[tuple]:
	"""(from_stage, to_stage, days) of the period's stays `user` reads other than their keys' rows: rows of
	no deal, rows of an existing deal shared with them, rows shared themselves (each once)."""
	columns = "h.`name`, h.`viewer_key`, h.`from_stage`, h.`to_stage`, h.`days_in_previous_stage`"
	# raw SQL: a UNION ALL over named indexes, which frappe.qb does not write
	parts = [
		f"""SELECT {columns} FROM {TABLE} h FORCE INDEX (opportunity_changed_on_index)
			WHERE {own} AND (h.`opportunity` IS NULL OR h.`opportunity` = '')"""
	]
	values = dict(values)
	for doctype, key in (("Opportunity", "deals"), (HISTORY, "rows")):
		shared = frappe.db.sql_list(
			"""SELECT `share_name` FROM `tabDocShare` WHERE `share_doctype` = %s AND `read` = 1
				AND (`user` = %s OR `everyone` = 1)""",
			(doctype, user),
		)
		if shared:
			values[key] = tuple(shared)
	if values.get("deals"):
		parts.append(
			f"""SELECT {columns} FROM `tabOpportunity` `vo`
				JOIN {TABLE} h FORCE INDEX (opportunity_changed_on_index) ON h.`opportunity` = `vo`.`name`
				WHERE `vo`.`name` IN %(deals)s AND {own}"""
		)
	if values.get("rows"):
		parts.append(f"SELECT {columns} FROM {TABLE} h WHERE {own} AND h.`name` IN %(rows)s")
	rows = {}
	for name, key, from_stage, to_stage, days in frappe.db.sql(" UNION ALL ".join(parts), values):
		if key not in keys:  # a row of a key they see is counted with the keys' rows
			rows[name] = (from_stage, to_stage, float(days))
	return list(rows.values())


def straightforward_statistics(filters: frappe._dict) -> dict[str, frappe._dict]:
	"""The statistics straight from the history rows (PERCENTILE_CONT over the period): the path of a user
	whose view is narrowed by the record visibility, and the fast path's reference in the tests."""
	where, values = _conditions(filters)
	percentiles = frappe.db.sql(
		f"""SELECT DISTINCT `from_stage` AS stage,
			PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY `days_in_previous_stage`)
				OVER (PARTITION BY `from_stage`) AS median_days,
			PERCENTILE_CONT(0.75) WITHIN GROUP (ORDER BY `days_in_previous_stage`)
				OVER (PARTITION BY `from_stage`) AS p75_days
		FROM `tabOpportunity Stage History` WHERE {where}""",
		values,
		as_dict=True,
	)
	counts = frappe.db.sql(
		f"""SELECT `tabOpportunity Stage History`.`from_stage` AS stage, COUNT(*) AS stays,
			SUM(CASE WHEN `to`.`stage_type` = 'Won'
				OR (`to`.`stage_type` = 'Open' AND `to`.`sequence` > `left`.`sequence`) THEN 1 ELSE 0 END)
				AS moved_on
		FROM `tabOpportunity Stage History`
		JOIN `tabOpportunity Stage` `left` ON `left`.`name` = `tabOpportunity Stage History`.`from_stage`
		LEFT JOIN `tabOpportunity Stage` `to` ON `to`.`name` = `tabOpportunity Stage History`.`to_stage`
		WHERE {where}
		GROUP BY `tabOpportunity Stage History`.`from_stage`""",
		values,
		as_dict=True,
	)
	stats = {row.stage: frappe._dict(row) for row in counts}
	for row in percentiles:
		stats.setdefault(row.stage, frappe._dict(stage=row.stage, stays=0, moved_on=0)).update(
			median_days=flt(row.median_days, 2), p75_days=flt(row.p75_days, 2)
		)
	return stats


def _open_filters(filters: frappe._dict) -> dict:
	base = {"status": "Open"}
	if filters.assigned_to:
		base["assigned_to"] = filters.assigned_to
	if filters.stage:
		base["sales_stage"] = filters.stage
	return base


def _open_counts(filters: frappe._dict) -> dict[str, int]:
	"""stage → how many open deals the user may read are in it: the pre-aggregated totals' counts per stage
	(the Kanban's column totals, services/totals/: every deal, or a private user's team's and shares;
	0.2–2.4 s as a grouped count over 85,000 open deals of 100,000), or one grouped count when they can't
	answer (a User Permission, totals switched off)."""
	counted = totals.column_totals(_open_filters(filters))
	if counted is not None:
		return {row.sales_stage: row.opportunities for row in counted if row.opportunities}
	rows = frappe.get_list(
		"Opportunity",
		filters=_open_filters(filters),
		fields=["sales_stage", aggregate("count", "name", "n")],
		group_by="sales_stage",
		order_by="sales_stage asc",
		limit_page_length=0,
	)
	return {row.sales_stage: row.n for row in rows}


def _flagged(stage: str, filters: frappe._dict, older_than, open_now: int) -> tuple[int, list]:
	"""How many of the `open_now` open deals in `stage` the user may read entered it before `older_than`,
	and the first LISTED_PER_STAGE of them, longest first (the index on status, sales_stage, stage_since
	reads them in order). When more are flagged than listed, the count is the open deals less those that
	entered since `older_than` (a range of that index; Frappe's `<` on a date wraps the column in IFNULL,
	which no index serves, and counts a deal without `stage_since` as flagged: so does the difference)."""
	deal_filters = {**_open_filters(filters), "sales_stage": stage}
	listed = frappe.get_list(
		"Opportunity",
		filters={**deal_filters, "stage_since": ("<", older_than)},
		fields=["name", "stage_since", "assigned_to"],
		order_by="stage_since asc",
		limit_page_length=LISTED_PER_STAGE,
	)
	if len(listed) < LISTED_PER_STAGE:
		return len(listed), listed
	recent = None if filters.assigned_to else _private_recent(stage, older_than)
	if recent is None:
		recent = frappe.get_list(
			"Opportunity",
			filters={**deal_filters, "stage_since": (">=", older_than)},
			fields=[aggregate("count", "name", "n")],
			order_by="",
		)[0].n
	return open_now - recent, listed


OWNER_INDEX = "open_stage_owner_index"  # made by the history DocType's on_doctype_update
_INDEXED: set[tuple] = set()  # (site, table, index) found (indexes are never dropped)


def _has_index(table: str, index: str) -> bool:
	found = (getattr(frappe.local, "site", None), table, index)
	if found not in _INDEXED:
		if not frappe.db.sql(f"show index from `{table}` where Key_name = %s", (index,)):
			return False
		_INDEXED.add(found)
	return True


def _private_recent(stage: str, since) -> int | None:
	"""How many open deals in `stage` a user under private visibility (and nothing else: the totals'
	`read_scope`) may read that entered it since `since`, as the visibility's condition counts them (their
	team owns, is Assigned To or among the `_assign` of, or shared with them), or None for anyone else.
	The condition per deal over a stage's open deals is 0.2–1.7 s at a million deals; here: those their team
	owns, counted on the (status, sales_stage, owner, stage_since) index alone; the others their team may see
	(another owner), by the owners of the pre-aggregated totals' groups the condition finds, checked deal by
	deal on those owners' ranges; the shared ones not their team's, by name."""
	scope = totals.read_scope()
	if scope is None or not scope.private or not _has_index("tabOpportunity", OWNER_INDEX):
		return None
	team = tuple(visibility.team_of(scope.user))
	values = {"stage": stage, "since": since, "team": team}
	deals = f"`tabOpportunity` o FORCE INDEX ({OWNER_INDEX})"
	where = "o.status = 'Open' AND o.sales_stage = %(stage)s AND o.stage_since >= %(since)s"
	# raw SQL: counts on a named index (frappe.qb writes no FORCE INDEX); values are parameters, the team
	# condition the visibility's own (escaped)
	count = frappe.db.sql(f"SELECT COUNT(*) FROM {deals} WHERE {where} AND o.owner IN %(team)s", values)[0][0]
	others = set()
	for table in (totals.TOTALS, totals.DELTAS):  # every deal counts in one of these (a group or a delta)
		others.update(
			frappe.db.sql_list(
				f"""SELECT DISTINCT t.owner FROM `{table}` t WHERE t.status = 'Open'
				AND t.sales_stage = %(stage)s AND (t.owner IS NULL OR t.owner NOT IN %(team)s)
				AND {scope.team("t")}""",
				values,
			)
		)
	if others:
		owners = ["o.owner IN %(others)s"] if others - {None} else []
		owners += ["o.owner IS NULL"] if None in others else []
		count += frappe.db.sql(
			f"SELECT COUNT(*) FROM {deals} WHERE {where} AND ({' OR '.join(owners)}) AND {scope.team('o')}",
			{**values, "others": tuple(sorted(others - {None})) or ("",)},
		)[0][0]
	count += frappe.db.sql(
		f"""SELECT COUNT(*) FROM `tabOpportunity` o WHERE {scope.shared()} AND {where}
		AND COALESCE({scope.team("o")}, 0) = 0""",
		values,
	)[0][0]
	return int(count)


def run(filters=None):
	filters = frappe._dict(filters or {})
	filters.from_date = filters.from_date or add_days(today(), -365)
	filters.to_date = filters.to_date or today()
	stats = stage_statistics(filters)
	now = now_datetime()
	data, chart_labels, medians, p75s = [], [], [], []
	stage_filters = {"stage_type": "Open"}
	if filters.stage:
		stage_filters["name"] = filters.stage
	stages = frappe.get_all(
		"Opportunity Stage", filters=stage_filters, fields=["name"], order_by="sequence asc, name asc"
	)
	open_counts = _open_counts(filters)
	for stage in stages:
		row = stats.get(stage.name) or frappe._dict(stays=0, moved_on=0, median_days=None, p75_days=None)
		median = row.get("median_days")
		cutoff = now - _days(FLAG_FACTOR * median) if median else None
		open_now = open_counts.get(stage.name, 0)
		flagged_count, flagged = (0, [])
		if cutoff and open_now:
			flagged_count, flagged = _flagged(stage.name, filters, cutoff, open_now)
		data.append(
			{
				"stage": stage.name,
				"indent": 0,
				"stays": row.stays,
				"median_days": median,
				"p75_days": row.get("p75_days"),
				"moved_on": row.moved_on,
				"conversion": flt(100 * row.moved_on / row.stays, 1) if row.stays else None,
				"open_now": open_now,
				"flagged": flagged_count,
			}
		)
		for deal in flagged:
			data.append(
				{
					"opportunity": deal.name,
					"indent": 1,
					"days_in_stage": flt((now - get_datetime(deal.stage_since)).total_seconds() / 86400, 1),
					"assigned_to": deal.assigned_to,
					"flagged": 1,
				}
			)
		chart_labels.append(stage.name)
		medians.append(median or 0)
		p75s.append(row.get("p75_days") or 0)
	chart = {
		"data": {
			"labels": chart_labels,
			"datasets": [
				{"name": _("Median Days"), "values": medians},
				{"name": _("P75 Days"), "values": p75s},
			],
		},
		"type": "bar",
	}
	return columns(), data, None, chart


def _days(count: float):
	import datetime

	return datetime.timedelta(days=float(count))
