"""The Opportunity Forecast report grouped by owner: per period of expected close × assignee, the amounts in
each forecast category, the quota (services/quotas.py), attainment (won ÷ quota) and coverage (open
weighted ÷ the quota still to reach), with a chart per period. Every deal counts whatever its status (the
report's Status filter is for the stage view): won deals are what attainment is made of. Amounts are the
default-currency ones (base_amount, base_forecast_amount)."""

from collections import OrderedDict

import frappe
from frappe import _
from frappe.utils import flt, getdate

from opportunity_suite.services.forecast import get_settings
from opportunity_suite.services.forecast_categories import CATEGORIES
from opportunity_suite.services.forecast_report import (
	category_columns,
	category_field,
	period_key,
	periods_between,
	query_totals,
)
from opportunity_suite.services.quotas import quotas
from opportunity_suite.services.visibility import team_of


def measures(won: float, quota: float, open_weighted: float) -> dict:
	"""Attainment (%, won ÷ quota), the quota still to reach, and coverage (open weighted ÷ that); None
	where there is no quota, or nothing left to reach."""
	remaining = max(quota - won, 0.0)
	return {
		"attainment": (won / quota * 100) if quota else None,
		"remaining_quota": remaining if quota else None,
		"coverage": (open_weighted / remaining) if remaining else None,
	}


def _quota_key(start, period: str) -> str:
	start = getdate(start)
	part = (start.month - 1) // 3 + 1 if period == "Quarter" else start.month
	return period_key(start.year, part, period)


def _scope_users(filters) -> list[str] | None:
	"""Whose quotas the report counts: the Assigned To filter's user, the team's members, or everyone."""
	if filters.get("assigned_to"):
		return [filters.assigned_to]
	if filters.get("team"):
		return team_of(filters.team)
	return None


def run_by_owner(filters: frappe._dict):
	currency = get_settings().default_currency
	grouped: OrderedDict[tuple, dict] = OrderedDict()

	def row_of(period: str, user: str | None) -> dict:
		if (period, user) not in grouped:
			grouped[(period, user)] = {
				"period": period,
				"assigned_to": user,
				"opportunities": 0,
				**{category_field(c): 0.0 for c in CATEGORIES},
				"open_weighted": 0.0,
				"won": 0.0,
				"quota": 0.0,
				"currency": currency,
			}
		return grouped[(period, user)]

	for row in query_totals(filters):
		out = row_of(period_key(int(row.year), int(row.part), filters.period), row.assigned_to)
		out["opportunities"] += row.opportunities
		if row.forecast_category in CATEGORIES:
			out[category_field(row.forecast_category)] += flt(row.base_amount)
		if row.status == "Won":
			out["won"] += flt(row.base_amount)
		elif row.status == "Open" and row.forecast_category != "Omitted":
			out["open_weighted"] += flt(row.base_forecast_amount)
	if not filters.get("sales_stage") and not filters.get("forecast_category"):
		for (user, start), amount in quotas(
			_scope_users(filters), filters.from_date, filters.to_date, filters.period
		).items():
			row_of(_quota_key(start, filters.period), user)["quota"] += amount
	rows = sorted(grouped.values(), key=lambda r: (r["period"], r["assigned_to"] or ""))
	for row in rows:
		row.update(measures(row["won"], row["quota"], row["open_weighted"]))
	return columns(filters), rows, None, chart(rows, filters), summary(rows, currency)


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
		{"fieldname": "opportunities", "label": _("Opportunities"), "fieldtype": "Int", "width": 110},
		*category_columns(),
		{"fieldname": "open_weighted", "label": _("Open Weighted"), **money},
		{"fieldname": "won", "label": _("Won"), **money},
		{"fieldname": "quota", "label": _("Quota"), **money},
		{"fieldname": "attainment", "label": _("Attainment (%)"), "fieldtype": "Percent", "width": 120},
		{"fieldname": "remaining_quota", "label": _("Quota To Go"), **money},
		{
			"fieldname": "coverage",
			"label": _("Coverage (×)"),
			"fieldtype": "Float",
			"precision": 2,
			"width": 110,
		},
		{
			"fieldname": "currency",
			"label": _("Currency"),
			"fieldtype": "Link",
			"options": "Currency",
			"hidden": 1,
		},
	]


def chart(rows: list[dict], filters) -> dict:
	"""Per period: won, commit, best case and pipeline as bars, the quota as a line."""
	keys = periods_between(filters.from_date, filters.to_date, filters.period)
	shown = ("Closed", "Commit", "Best Case", "Pipeline")
	totals = {key: dict.fromkeys((*shown, "quota"), 0.0) for key in keys}
	for row in rows:
		period = totals.setdefault(row["period"], dict.fromkeys((*shown, "quota"), 0.0))
		for category in shown:
			period[category] += row[category_field(category)]
		period["quota"] += row["quota"]
	labels = {
		"Closed": _("Won"),
		"Commit": _("Commit"),
		"Best Case": _("Best Case"),
		"Pipeline": _("Pipeline"),
	}
	datasets = [
		{"name": labels[c], "chartType": "bar", "values": [totals[k][c] for k in totals]} for c in shown
	]
	datasets.append({"name": _("Quota"), "chartType": "line", "values": [totals[k]["quota"] for k in totals]})
	return {
		"data": {"labels": list(totals), "datasets": datasets},
		"type": "axis-mixed",
		"fieldtype": "Currency",
		"colors": ["#29cd42", "#2490ef", "#a3c4f3", "#d1d8dd", "#ff5858"],
		"barOptions": {"stacked": 1},
	}


def summary(rows: list[dict], currency: str) -> list[dict]:
	won = sum(r["won"] for r in rows)
	quota = sum(r["quota"] for r in rows)
	total = measures(won, quota, sum(r["open_weighted"] for r in rows))
	money = {"datatype": "Currency", "currency": currency}
	return [
		{"label": _("Won"), "value": won, "indicator": "Green", **money},
		{"label": _("Quota"), "value": quota, "indicator": "Blue", **money},
		{
			"label": _("Attainment (%)"),
			"value": flt(total["attainment"], 1),
			"datatype": "Percent",
			"indicator": "Blue",
		},
		{
			"label": _("Coverage (×)"),
			"value": flt(total["coverage"], 2),
			"datatype": "Float",
			"indicator": "Orange",
		},
	]
