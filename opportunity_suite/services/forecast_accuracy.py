"""The Forecast Accuracy report: for each closed month or quarter, what the last Forecast Snapshot taken at
least N weeks before its end said (services/forecast_snapshots.py) against what was won, per assignee.

- Forecast: the snapshot's weighted amount of the deals then open or won, not Omitted.
- Commit: the snapshot's amount in Commit and Closed.
- Won: today's won amount of the deals expected to close in the period (default currency).
- Bias: forecast − won (over-forecast when positive), and as % of won."""

from collections import OrderedDict

import frappe
from frappe import _
from frappe.query_builder.functions import Sum
from frappe.query_builder.utils import PseudoColumn
from frappe.utils import add_days, add_months, cint, flt, get_first_day, getdate, today

from opportunity_suite.services.forecast import get_settings
from opportunity_suite.services.forecast_report import PERIODS, ReportFilterError, permission_conditions
from opportunity_suite.services.quotas import period_start
from opportunity_suite.services.visibility import team_of

ROW = "Forecast Snapshot Row"
SNAPSHOT = "Forecast Snapshot"


def normalise_filters(filters: dict | None) -> frappe._dict:
	filters = frappe._dict(filters or {})
	filters.period = filters.get("period") or "Month"
	if filters.period not in PERIODS:
		frappe.throw(_("Period must be Month or Quarter."), exc=ReportFilterError)
	weeks = filters.get("weeks_before")
	filters.weeks_before = 4 if weeks in (None, "") else cint(weeks)
	if not 0 <= filters.weeks_before <= 52:
		frappe.throw(_("Weeks Before must be between 0 and 52."), exc=ReportFilterError)
	this_month = get_first_day(today())
	filters.from_date = getdate(filters.get("from_date") or add_months(this_month, -12))
	filters.to_date = getdate(filters.get("to_date") or add_days(this_month, -1))
	if filters.from_date > filters.to_date:
		frappe.throw(_("From must not be after To."), exc=ReportFilterError)
	return filters


def closed_periods(filters) -> list[tuple[str, object, object]]:
	"""(label, first day, last day) of each period from from_date to to_date that has ended."""
	periods, start = [], period_start(filters.from_date, filters.period)
	step = 3 if filters.period == "Quarter" else 1
	while start <= filters.to_date:
		end = getdate(add_days(add_months(start, step), -1))
		if end < getdate(today()):
			label = (
				f"{start.year}-Q{(start.month - 1) // 3 + 1}"
				if step == 3
				else f"{start.year}-{start.month:02d}"
			)
			periods.append((label, start, end))
		start = getdate(add_months(start, step))
	return periods


def _owners(filters) -> list[str] | None:
	if filters.get("assigned_to"):
		return [filters.assigned_to]
	if filters.get("team"):
		return team_of(filters.team)
	return None


def snapshot_before(day) -> frappe._dict | None:
	rows = frappe.get_all(
		SNAPSHOT,
		filters={"snapshot_date": ("<=", day)},
		fields=["name", "snapshot_date"],
		order_by="snapshot_date desc, creation desc",
		limit=1,
	)
	return rows[0] if rows else None


def snapshot_totals(snapshot: str, start, end, owners) -> dict[str, dict]:
	"""assignee → forecast and commit of the snapshot's rows in the period."""
	row = frappe.qb.DocType(ROW)
	counted = (row.status != "Lost") & (row.forecast_category.isnull() | (row.forecast_category != "Omitted"))
	query = (
		frappe.qb.from_(row)
		.select(
			row.assigned_to,
			row.forecast_category,
			row.status,
			Sum(row.base_amount),
			Sum(row.base_forecast_amount),
		)
		.where(
			(row.parent == snapshot) & (row.parenttype == SNAPSHOT) & row.period_start[start:end] & counted
		)
		.groupby(row.assigned_to, row.forecast_category, row.status)
	)
	if owners is not None:
		query = query.where(row.assigned_to.isin(owners or [""]))
	totals: dict[str, dict] = {}
	for owner, category, _status, amount, weighted in query.run():
		entry = totals.setdefault(owner, {"forecast": 0.0, "commit": 0.0})
		entry["forecast"] += flt(weighted)
		if category in ("Commit", "Closed"):
			entry["commit"] += flt(amount)
	return totals


def won_totals(start, end, owners) -> dict[str, float]:
	"""assignee → won amount (default currency) of the deals expected to close in the period, today, over
	the opportunities the user may read."""
	opp = frappe.qb.DocType("Opportunity")
	query = (
		frappe.qb.from_(opp)
		.select(opp.assigned_to, Sum(opp.base_amount))
		.where((opp.status == "Won") & opp.expected_close_date[start:end])
		.groupby(opp.assigned_to)
	)
	if owners is not None:
		query = query.where(opp.assigned_to.isin(owners or [""]))
	for condition in permission_conditions():
		query = query.where(PseudoColumn(f"({condition})"))
	return {owner: flt(amount) for owner, amount in query.run()}


def won_by_period(periods: list[tuple[str, object, object]], owners) -> dict[str, dict[str, float]] | None:
	"""won_totals of every period in one read of the open pipeline's totals (services/totals/: status,
	assignee, month of expected close and base amount are among its dimensions; the periods are whole
	months); None when they can't answer for the session user."""
	from opportunity_suite.services import totals

	if not periods:
		return {}
	scope = totals.read_scope()
	if scope is None:
		return None
	filters = [("status", "=", ("Won",))]
	if owners is not None:
		filters.append(("assigned_to", "in", tuple(owners or [""])))
	# each period one SUM (as won_totals'; floats added up in Python would differ in the last digit)
	quarters = periods[0][1].month != periods[0][2].month
	period = (
		{"year": "year(t.close_month)", "quarter": "quarter(t.close_month)"}
		if quarters
		else {"close_month": "t.close_month"}
	)
	rows = totals.grouped_totals(
		scope,
		{**period, "assigned_to": "t.assigned_to"},
		filters,
		[
			(
				"t.close_month between %(won_from)s and %(won_to)s",
				{"won_from": periods[0][1], "won_to": get_first_day(periods[-1][2])},
			)
		],
	)
	labels = {
		(start.year, (start.month - 1) // 3 + 1) if quarters else start: label
		for label, start, _end in periods
	}
	won = {label: {} for label, _start, _end in periods}
	for row in rows:
		label = labels.get((row.year, row.quarter) if quarters else row.close_month)
		if label is not None:
			won[label][row.assigned_to] = flt(row.base_amount)
	return won


def bias(forecast: float | None, won: float) -> dict:
	if forecast is None:
		return {"bias": None, "bias_percent": None, "direction": _("No snapshot")}
	difference = forecast - won
	direction = _("Over") if difference > 0 else _("Under") if difference < 0 else _("Exact")
	return {
		"bias": difference,
		"bias_percent": (difference / won * 100) if won else None,
		"direction": direction,
	}


def run(filters: dict | None = None):
	filters = normalise_filters(filters)
	currency = get_settings().default_currency
	owners = _owners(filters)
	rows, trend = [], OrderedDict()
	periods = closed_periods(filters)
	won_fast = won_by_period(periods, owners)
	for label, start, end in periods:
		snapshot = snapshot_before(add_days(end, -7 * filters.weeks_before))
		said = snapshot_totals(snapshot.name, start, end, owners) if snapshot else {}
		won = won_fast[label] if won_fast is not None else won_totals(start, end, owners)
		point = trend.setdefault(label, {"forecast": 0.0, "won": 0.0, "has_snapshot": bool(snapshot)})
		for owner in sorted(set(said) | set(won), key=lambda o: o or ""):
			forecast = said.get(owner, {}).get("forecast", 0.0) if snapshot else None
			row = {
				"period": label,
				"assigned_to": owner,
				"snapshot": snapshot.name if snapshot else None,
				"snapshot_date": snapshot.snapshot_date if snapshot else None,
				"forecast": forecast,
				"commit": said.get(owner, {}).get("commit", 0.0) if snapshot else None,
				"won": won.get(owner, 0.0),
				"currency": currency,
				**bias(forecast, won.get(owner, 0.0)),
			}
			rows.append(row)
			point["forecast"] += forecast or 0.0
			point["won"] += row["won"]
	return columns(filters), rows, None, chart(trend), summary(rows, currency)


def columns(filters) -> list[dict]:
	money = {"fieldtype": "Currency", "options": "currency", "width": 140}
	return [
		{"fieldname": "period", "label": _(filters.period), "fieldtype": "Data", "width": 100},
		{
			"fieldname": "assigned_to",
			"label": _("Assigned To"),
			"fieldtype": "Link",
			"options": "User",
			"width": 200,
		},
		{
			"fieldname": "snapshot",
			"label": _("Snapshot"),
			"fieldtype": "Link",
			"options": SNAPSHOT,
			"width": 170,
		},
		{"fieldname": "snapshot_date", "label": _("Snapshot Date"), "fieldtype": "Date", "width": 110},
		{"fieldname": "forecast", "label": _("Forecast"), **money},
		{"fieldname": "commit", "label": _("Commit"), **money},
		{"fieldname": "won", "label": _("Won"), **money},
		{"fieldname": "bias", "label": _("Bias"), **money},
		{"fieldname": "bias_percent", "label": _("Bias (%)"), "fieldtype": "Percent", "width": 100},
		{"fieldname": "direction", "label": _("Over / Under"), "fieldtype": "Data", "width": 110},
		{
			"fieldname": "currency",
			"label": _("Currency"),
			"fieldtype": "Link",
			"options": "Currency",
			"hidden": 1,
		},
	]


def chart(trend: "OrderedDict[str, dict]") -> dict:
	"""The trend: forecast (as the snapshots said) and won, per closed period."""
	return {
		"data": {
			"labels": list(trend),
			"datasets": [
				{
					"name": _("Forecast"),
					"values": [p["forecast"] if p["has_snapshot"] else None for p in trend.values()],
				},
				{"name": _("Won"), "values": [p["won"] for p in trend.values()]},
			],
		},
		"type": "line",
		"fieldtype": "Currency",
		"colors": ["#2490ef", "#29cd42"],
	}


def summary(rows: list[dict], currency: str) -> list[dict]:
	judged = [r for r in rows if r["forecast"] is not None]
	forecast = sum(r["forecast"] for r in judged)
	won = sum(r["won"] for r in judged)
	overall = bias(forecast, won) if judged else bias(None, 0)
	money = {"datatype": "Currency", "currency": currency}
	return [
		{"label": _("Forecast"), "value": forecast, "indicator": "Blue", **money},
		{"label": _("Won"), "value": won, "indicator": "Green", **money},
		{"label": _("Bias"), "value": overall["bias"] or 0.0, "indicator": "Orange", **money},
		{
			"label": _("Bias (%)"),
			"value": flt(overall["bias_percent"], 1),
			"datatype": "Percent",
			"indicator": "Orange",
		},
	]
