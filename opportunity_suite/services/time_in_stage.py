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

import frappe
from frappe import _
from frappe.desk.reportview import get_match_cond
from frappe.utils import add_days, cint, flt, get_datetime, getdate, now_datetime, today

from opportunity_suite.services import stage_stays
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


def _conditions(filters: frappe._dict) -> tuple[str, dict]:
	# raw SQL: frappe.qb has no PERCENTILE_CONT … WITHIN GROUP; values are parameters, the match condition
	# is Frappe's own (get_match_cond), written for the history table under its full name
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
	return sql + " " + get_match_cond(HISTORY), values


def stage_statistics(filters: frappe._dict) -> dict[str, frappe._dict]:
	"""Per stage left: stays, moved_on, median_days, p75_days over the period (and assignee)."""
	if get_match_cond(HISTORY):  # the user reads only some deals' history: count their rows
		return straightforward_statistics(filters)
	return fast_statistics(filters)


def fast_statistics(filters: frappe._dict) -> dict[str, frappe._dict]:
	"""The same numbers from the Stage Stay Count summary (all deals) or the assignee's index range, the
	two percentiles of each stage read exactly as the values at their ranks (PERCENTILE_CONT's linear
	interpolation between the values at ranks floor and ceil of p × (n − 1))."""
	start, end = stage_stays.day_bounds(filters.from_date, filters.to_date)
	if filters.assigned_to:
		counts = frappe.db.sql(
			f"""SELECT h.from_stage, h.to_stage, NULL, COUNT(*)
			FROM {TABLE} h FORCE INDEX (assignee_stage_stay_index)
			WHERE h.assigned_to = %(user)s AND h.stage_changed = 1 AND IFNULL(h.from_stage, '') != ''
				AND h.changed_on >= %(start)s AND h.changed_on < %(end)s
			GROUP BY h.from_stage, h.to_stage""",
			{"user": filters.assigned_to, "start": start, "end": end},
		)
	else:
		counts = stage_stays.period_counts(filters.from_date, filters.to_date)
	stages = {
		s.name: s for s in frappe.get_all("Opportunity Stage", fields=["name", "stage_type", "sequence"])
	}
	stats, histograms = {}, {}
	for from_stage, to_stage, whole_days, n in counts:
		n = int(n)
		row = stats.setdefault(from_stage, frappe._dict(stage=from_stage, stays=0, moved_on=0, total=0))
		row.total += n
		left, entered = stages.get(from_stage), stages.get(to_stage)
		if left:  # as the straightforward query's join: stays of a stage that no longer exists aren't counted
			row.stays += n
			if entered and (
				entered.stage_type == "Won"
				or (entered.stage_type == "Open" and cint(entered.sequence) > cint(left.sequence))
			):
				row.moved_on += n
		if whole_days is not None:
			histogram = histograms.setdefault(from_stage, Counter())
			histogram[int(whole_days)] += n
	for stage, row in stats.items():
		value_at = _rank_reader(stage, row.total, histograms.get(stage), filters.assigned_to, start, end)
		row.update(median_days=flt(_percentile(0.5, row.total, value_at), 2))
		row.update(p75_days=flt(_percentile(0.75, row.total, value_at), 2))
		del row["total"]
	return stats


def _percentile(fraction: float, count: int, value_at) -> float:
	position = fraction * (count - 1)
	lower = math.floor(position)
	low = value_at(lower)
	if position == lower:
		return low
	return low + (position - lower) * (value_at(lower + 1) - low)


def _rank_reader(stage: str, count: int, histogram, assignee, start, end):
	"""value_at(rank): the duration at a 0-based rank among the stage's stays in the period, in order."""
	where = "h.stage_changed = 1 AND h.from_stage = %(stage)s AND h.changed_on >= %(start)s AND h.changed_on < %(end)s"
	values = {"stage": stage, "start": start, "end": end}

	def read(extra: str, index: str, offset: int, **more) -> float:
		# raw SQL: an ORDER BY … LIMIT offset on a named index, which frappe.qb does not write
		row = frappe.db.sql(
			f"""SELECT h.days_in_previous_stage FROM {TABLE} h FORCE INDEX ({index})
			WHERE {where} {extra} ORDER BY h.days_in_previous_stage LIMIT %(offset)s, 1""",
			{**values, **more, "offset": offset},
		)
		return float(row[0][0])

	if assignee:
		return lambda rank: read(
			"AND h.assigned_to = %(user)s", "assignee_stage_stay_index", rank, user=assignee
		)
	buckets = sorted(histogram.items())

	def value_at(rank: int) -> float:
		before = 0
		for whole_days, n in buckets:  # the whole-day bucket that holds the rank, then the rank within it
			if rank < before + n:
				return read(
					"AND h.days_in_previous_stage >= %(low)s AND h.days_in_previous_stage < %(high)s",
					"stage_stay_duration_index",
					rank - before,
					low=whole_days,
					high=whole_days + 1,
				)
			before += n
		raise IndexError(rank)

	return value_at


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
	return base


def _open_counts(filters: frappe._dict) -> dict[str, int]:
	"""stage → how many open deals the user may read are in it (one grouped count)."""
	rows = frappe.get_list(
		"Opportunity",
		filters=_open_filters(filters),
		fields=["sales_stage", aggregate("count", "name", "n")],
		group_by="sales_stage",
		order_by="sales_stage asc",
		limit_page_length=0,
	)
	return {row.sales_stage: row.n for row in rows}


def _flagged(stage: str, filters: frappe._dict, older_than) -> list:
	"""The open deals in `stage` the user may read that entered it before `older_than`, longest first
	(the index on status, sales_stage, stage_since reads them in order)."""
	return frappe.get_list(
		"Opportunity",
		filters={**_open_filters(filters), "sales_stage": stage, "stage_since": ("<", older_than)},
		fields=["name", "stage_since", "assigned_to"],
		order_by="stage_since asc",
		limit_page_length=LISTED_PER_STAGE,
	)


def run(filters=None):
	filters = frappe._dict(filters or {})
	filters.from_date = filters.from_date or add_days(today(), -365)
	filters.to_date = filters.to_date or today()
	stats = stage_statistics(filters)
	now = now_datetime()
	data, chart_labels, medians, p75s = [], [], [], []
	stages = frappe.get_all(
		"Opportunity Stage",
		filters={"stage_type": "Open"},
		fields=["name"],
		order_by="sequence asc, name asc",
	)
	open_counts = _open_counts(filters)
	for stage in stages:
		row = stats.get(stage.name) or frappe._dict(stays=0, moved_on=0, median_days=None, p75_days=None)
		median = row.get("median_days")
		cutoff = now - _days(FLAG_FACTOR * median) if median else None
		open_now = open_counts.get(stage.name, 0)
		flagged = _flagged(stage.name, filters, cutoff) if cutoff and open_now else []
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
				"flagged": len(flagged),
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
