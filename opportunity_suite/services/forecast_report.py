"""The Opportunity Forecast report: sums of the default-currency amounts (base_amount,
base_forecast_amount) grouped by period of expected close and stage, with a chart. Group By:

- Stage (the default): a row per period × stage, what a manager reads first (~100 rows a year; the
  Assigned To and Team Of filters narrow it);
- Stage and Assignee: the same per assignee too, the drill-down (thousands of rows at a million deals);
- Owner (with quota): per period × assignee with quota and attainment (services/forecast_attainment.py);
- Period: a row per period alone, what the workspace chart (a Report chart: Frappe's widget runs the
  report with the chart's filters) reads — 12 rows — and opens.

Aggregated in the database with frappe.qb; the rows a user sees are the ones they may read (Frappe's
match conditions: user permissions, sharing, permission query conditions)."""

from collections import OrderedDict

import frappe
from frappe import _
from frappe.model.db_query import DatabaseQuery
from frappe.query_builder import Case
from frappe.query_builder.functions import Count, Extract, IfNull, Sum
from frappe.query_builder.utils import PseudoColumn
from frappe.utils import add_days, add_months, flt, get_first_day, getdate, today
from pypika.enums import DatePart

from opportunity_suite.services.forecast import currency_precision, get_settings
from opportunity_suite.services.forecast_categories import CATEGORIES, check_category
from opportunity_suite.services.visibility import team_of

DOCTYPE = "Opportunity"
PERIODS = ("Month", "Quarter")
GROUP_BY = ("Stage", "Stage and Assignee", "Owner", "Period")
# what each view's rows are grouped by beside their period (Owner: forecast_attainment's own rows)
DETAIL = {"Stage": ("sales_stage",), "Stage and Assignee": ("sales_stage", "assigned_to"), "Period": ()}


class ReportFilterError(frappe.ValidationError):
	pass


def normalise_filters(filters: dict | None) -> frappe._dict:
	filters = frappe._dict(filters or {})
	filters.period = filters.get("period") or "Month"
	if filters.period not in PERIODS:
		frappe.throw(_("Period must be Month or Quarter."), exc=ReportFilterError)
	filters.group_by = filters.get("group_by") or "Stage"
	if filters.group_by not in GROUP_BY:
		frappe.throw(
			_("Group By must be one of {0}.").format(", ".join(_(g) for g in GROUP_BY)), exc=ReportFilterError
		)
	if filters.get("forecast_category"):
		check_category(filters.forecast_category, "Forecast Category")
	start = get_first_day(today())
	filters.from_date = getdate(filters.get("from_date") or start)
	filters.to_date = getdate(filters.get("to_date") or add_days(add_months(start, 12), -1))
	if filters.from_date > filters.to_date:
		frappe.throw(_("Expected Close From must not be after Expected Close To."), exc=ReportFilterError)
	return filters


def period_key(year: int, part: int, period: str) -> str:
	"""Sortable label: 2026-03 for a month, 2026-Q1 for a quarter."""
	return f"{year}-Q{part}" if period == "Quarter" else f"{year}-{part:02d}"


def month_names() -> tuple[str, ...]:
	return (
		_("Jan"),
		_("Feb"),
		_("Mar"),
		_("Apr"),
		_("May"),
		_("Jun"),
		_("Jul"),
		_("Aug"),
		_("Sep"),
		_("Oct"),
		_("Nov"),
		_("Dec"),
	)


def period_label(key: str) -> str:
	"""What a person reads on the chart's axis: Jan 2027 for 2027-01, Q1 2027 for 2027-Q1 (a key
	shortened by the chart to fit reads "202 ...")."""
	year, part = key.split("-")
	if part.startswith("Q"):
		return _("{0} {1}", context="quarter and year on a chart's axis").format(part, year)
	return _("{0} {1}", context="month and year on a chart's axis").format(month_names()[int(part) - 1], year)


def periods_between(from_date, to_date, period: str) -> list[str]:
	"""Every period from from_date to to_date, so that empty months or quarters show in the chart."""
	keys, day = [], get_first_day(from_date)
	while day <= to_date:
		part = (day.month - 1) // 3 + 1 if period == "Quarter" else day.month
		key = period_key(day.year, part, period)
		if key not in keys:
			keys.append(key)
		day = add_months(day, 1)
	return keys


def query_totals(filters: frappe._dict) -> list[dict]:
	"""Sums per (year, month or quarter, stage, assignee, status, forecast category) over the opportunities
	the user may read (the view by owner): from the pre-aggregated totals where they hold the answer
	(services/totals/), else aggregated here."""
	from opportunity_suite.services import totals

	summed = totals.forecast_rows(filters)
	if summed is not None:
		return summed
	opp = frappe.qb.DocType(DOCTYPE)
	keys = [*_period_keys(filters, opp), opp.sales_stage, opp.assigned_to, opp.status, opp.forecast_category]
	query = _filtered(filters, opp).select(
		*keys,
		Count(opp.name).as_("opportunities"),
		Sum(opp.base_amount).as_("base_amount"),
		Sum(opp.base_forecast_amount).as_("base_forecast_amount"),
	)
	return query.groupby(*keys).run(as_dict=True)


def stage_rows(filters: frappe._dict, currency: str) -> list[dict]:
	"""The report's rows: per period and what Group By adds (DETAIL: stage, stage and assignee, nothing)
	the count, the base amount and forecast, and each forecast category's base amount, summed in the
	database (decimal sums, a float each), sorted by period, the stage's sequence, stage and assignee. From
	the pre-aggregated totals where they hold the answer, else aggregated here."""
	from opportunity_suite.services import totals

	columns = {category_field(c): c for c in CATEGORIES}
	detail = DETAIL[filters.group_by]
	rows = totals.forecast_rows(filters, categories=columns, detail=detail)
	if rows is None:
		opp = frappe.qb.DocType(DOCTYPE)
		keys = [*_period_keys(filters, opp), *(opp[name] for name in detail)]
		query = _filtered(filters, opp).select(
			*keys,
			Count(opp.name).as_("opportunities"),
			IfNull(Sum(opp.base_amount), 0).as_("base_amount"),
			IfNull(Sum(opp.base_forecast_amount), 0).as_("base_forecast_amount"),
			*(
				Sum(Case().when(opp.forecast_category == c, IfNull(opp.base_amount, 0)).else_(0)).as_(column)
				for column, c in columns.items()
			),
		)
		rows = query.groupby(*keys).run(as_dict=True)
		for row in rows:  # decimal sums (the totals' come as floats already)
			for field in ("base_amount", "base_forecast_amount", *columns):
				row[field] = float(row[field] or 0)
	by_month = filters.period != "Quarter"
	for row in rows:  # thousands at a million deals: only what each row needs
		month = row.pop("close_month", None)
		if by_month and month is not None:  # the totals' first day of the month
			row["period"] = period_key(month.year, month.month, filters.period)
		else:
			row["period"] = period_key(int(row.pop("year")), int(row.pop("part")), filters.period)
		row["currency"] = currency
	if not detail:  # every period, an empty one too: a row per bar of the chart
		found = {row["period"]: row for row in rows}
		zero = dict.fromkeys(("base_amount", "base_forecast_amount", *columns), 0.0)
		return [
			found.get(key) or {"period": key, "opportunities": 0, **zero, "currency": currency}
			for key in periods_between(filters.from_date, filters.to_date, filters.period)
		]
	sequence = dict(frappe.get_all("Opportunity Stage", fields=["name", "sequence"], as_list=True))
	rows.sort(
		key=lambda r: (
			r["period"],
			sequence.get(r["sales_stage"]) or 0,
			r["sales_stage"] or "",
			r.get("assigned_to") or "",
		)
	)
	return rows


def _period_keys(filters: frappe._dict, opp) -> list:
	part = Extract(
		DatePart.quarter if filters.period == "Quarter" else DatePart.month, opp.expected_close_date
	)
	return [Extract(DatePart.year, opp.expected_close_date).as_("year"), part.as_("part")]


def _filtered(filters: frappe._dict, opp):
	"""The opportunities the report sums: its filters and the user's read conditions."""
	query = frappe.qb.from_(opp).where(opp.expected_close_date[filters.from_date : filters.to_date])
	if filters.get("status") and filters.get("group_by") != "Owner":  # attainment needs the won deals
		query = query.where(opp.status == filters.status)
	for field in ("assigned_to", "sales_stage", "organization", "forecast_category"):
		if filters.get(field) and frappe.get_meta(DOCTYPE).has_field(field):
			query = query.where(opp[field] == filters.get(field))
	if filters.get("team"):
		query = query.where(opp.assigned_to.isin(team_of(filters.team)))
	for condition in permission_conditions():
		query = query.where(PseudoColumn(f"({condition})"))
	return query


def permission_conditions() -> list[str]:
	"""Frappe's own read conditions for the session user, as get_list would apply them: match conditions
	(user permissions, permission query conditions) and, for a user who may read only what was shared with
	them, the share condition. Raises PermissionError when the user may read nothing."""
	query = DatabaseQuery(DOCTYPE)
	match = query.build_match_conditions(as_condition=True)
	conditions = [c for c in query.conditions if c]
	if match:
		conditions.append(match)
	return [c.replace("%", "%%") for c in conditions]


def category_field(category: str) -> str:
	"""The report column of a category's amount: best_case for Best Case."""
	return category.lower().replace(" ", "_")


def category_columns(qualified: bool = False) -> list[dict]:
	"""A column per category; `qualified` labels them "Pipeline (Category)"… beside the stage view's own
	Pipeline total."""
	return [
		{
			"fieldname": category_field(c),
			"label": _("{0} (Category)").format(_(c)) if qualified else _(c),
			"fieldtype": "Currency",
			"options": "currency",
			"width": 130,
		}
		for c in CATEGORIES
	]


def run(filters: dict | None = None):
	filters = normalise_filters(filters)
	if filters.group_by == "Owner":
		from opportunity_suite.services.forecast_attainment import run_by_owner

		return run_by_owner(filters)
	currency = get_settings().default_currency
	rows = stage_rows(filters, currency)
	return columns(filters), rows, None, chart(rows, filters), summary(rows, currency)


def columns(filters) -> list[dict]:
	return [
		{"fieldname": "period", "label": _(filters.period), "fieldtype": "Data", "width": 100},
		*_detail_columns(DETAIL[filters.group_by]),
		{"fieldname": "opportunities", "label": _("Opportunities"), "fieldtype": "Int", "width": 110},
		{
			"fieldname": "base_amount",
			"label": _("Pipeline"),
			"fieldtype": "Currency",
			"options": "currency",
			"width": 150,
		},
		{
			"fieldname": "base_forecast_amount",
			"label": _("Weighted Pipeline"),
			"fieldtype": "Currency",
			"options": "currency",
			"width": 160,
		},
		*category_columns(qualified=True),
		{
			"fieldname": "currency",
			"label": _("Currency"),
			"fieldtype": "Link",
			"options": "Currency",
			"hidden": 1,
		},
	]


def _detail_columns(detail: tuple[str, ...]) -> list[dict]:
	columns = [
		{
			"fieldname": "sales_stage",
			"label": _("Sales Stage"),
			"fieldtype": "Link",
			"options": "Opportunity Stage",
			"width": 180,
		},
		{
			"fieldname": "assigned_to",
			"label": _("Assigned To", context="Opportunity"),  # the deal's owner (负责人), not any assignee
			"fieldtype": "Link",
			"options": "User",
			"width": 200,
		},
	]
	return [column for column in columns if column["fieldname"] in detail]


def totals_by_period(rows: list[dict], filters) -> "OrderedDict[str, list[float]]":
	totals = OrderedDict(
		(key, [0.0, 0.0]) for key in periods_between(filters.from_date, filters.to_date, filters.period)
	)
	for row in rows:
		pair = totals.setdefault(row["period"], [0.0, 0.0])
		pair[0] += row["base_amount"]
		pair[1] += row["base_forecast_amount"]
	# a sum of currency values in the currency's precision: the same total whichever order the rows came in
	precision = currency_precision()
	for pair in totals.values():
		pair[:] = [flt(pair[0], precision), flt(pair[1], precision)]
	return totals


def chart(rows: list[dict], filters) -> dict:
	totals = totals_by_period(rows, filters)
	return {
		"data": {
			"labels": [period_label(key) for key in totals],
			"datasets": [
				{"name": _("Pipeline"), "values": [v[0] for v in totals.values()]},
				{"name": _("Weighted Pipeline"), "values": [v[1] for v in totals.values()]},
			],
		},
		"type": "bar",
		# a label that doesn't fit is left out (every other month shows), never cut to "Jan ..."
		"axisOptions": {"xIsSeries": 1, "shortenYAxisNumbers": 1},
		"fieldtype": "Currency",
		"colors": ["#a3c4f3", "#2490ef"],
	}


def summary(rows: list[dict], currency: str) -> list[dict]:
	return [
		{
			"label": _("Opportunities"),
			"value": sum(r["opportunities"] for r in rows),
			"datatype": "Int",
			"indicator": "Blue",
		},
		{
			"label": _("Pipeline"),
			"value": flt(sum(r["base_amount"] for r in rows), currency_precision()),
			"datatype": "Currency",
			"currency": currency,
			"indicator": "Blue",
		},
		{
			"label": _("Weighted Pipeline"),
			"value": flt(sum(r["base_forecast_amount"] for r in rows), currency_precision()),
			"datatype": "Currency",
			"currency": currency,
			"indicator": "Green",
		},
	]
