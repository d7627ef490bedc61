"""Forecast Snapshots: the pipeline frozen as it was on a day, per month of expected close × assignee ×
stage × forecast category × status (count, default-currency amount and weighted amount). The scheduler
takes one every week (hooks.py), a Sales Manager one on demand (api/forecast_snapshots.py). A snapshot is
never recomputed: the Forecast Accuracy report compares what it said with what was won later.

It covers every deal (whoever may read it) expected to close from the start of the current quarter to
a year ahead."""

import frappe
from frappe import _
from frappe.query_builder.functions import Count, Extract, Sum
from frappe.utils import add_months, flt, getdate, today
from pypika.enums import DatePart

from opportunity_suite.services.quotas import quarter_start

DOCTYPE = "Forecast Snapshot"
MONTHS_AHEAD = 12


class SnapshotFrozenError(frappe.ValidationError):
	pass


def refuse_changes(doc):
	if not doc.is_new():
		frappe.throw(
			_("A forecast snapshot is never changed: it is the pipeline as it was that day."),
			exc=SnapshotFrozenError,
		)


def snapshot_rows(day) -> list[dict]:
	"""The pipeline's totals on `day` (now), grouped, over every opportunity in the window."""
	first = quarter_start(day)
	last = getdate(add_months(first, MONTHS_AHEAD + 3))
	opp = frappe.qb.DocType("Opportunity")
	year = Extract(DatePart.year, opp.expected_close_date)
	month = Extract(DatePart.month, opp.expected_close_date)
	rows = (
		frappe.qb.from_(opp)
		.select(
			year.as_("year"),
			month.as_("month"),
			opp.assigned_to,
			opp.sales_stage,
			opp.forecast_category,
			opp.status,
			Count(opp.name).as_("opportunities"),
			Sum(opp.base_amount).as_("base_amount"),
			Sum(opp.base_forecast_amount).as_("base_forecast_amount"),
		)
		.where((opp.expected_close_date >= first) & (opp.expected_close_date < last))
		.groupby(year, month, opp.assigned_to, opp.sales_stage, opp.forecast_category, opp.status)
		.run(as_dict=True)
	)
	return [
		{
			"period_start": getdate(f"{int(r.year):04d}-{int(r.month):02d}-01"),
			"assigned_to": r.assigned_to,
			"sales_stage": r.sales_stage,
			"forecast_category": r.forecast_category,
			"status": r.status,
			"opportunities": r.opportunities,
			"base_amount": flt(r.base_amount),
			"base_forecast_amount": flt(r.base_forecast_amount),
		}
		for r in sorted(
			rows,
			key=lambda r: (
				r.year,
				r.month,
				r.assigned_to or "",
				r.sales_stage or "",
				r.forecast_category or "",
			),
		)
	]


def take_snapshot(taken_how: str = "On Demand") -> str:
	"""Freeze today's pipeline in a new Forecast Snapshot; its name. The caller checked the permission
	(the API) or is the scheduler."""
	rows = snapshot_rows(today())
	doc = frappe.get_doc(
		{
			"doctype": DOCTYPE,
			"snapshot_date": today(),
			"taken_by": frappe.session.user,
			"taken_how": taken_how,
			"opportunities": sum(r["opportunities"] for r in rows),
			"base_amount": sum(r["base_amount"] for r in rows),
			"base_forecast_amount": sum(r["base_forecast_amount"] for r in rows),
			"rows": rows,
		}
	)
	doc.insert(ignore_permissions=True)
	return doc.name


def take_weekly_snapshot():
	"""The scheduler's weekly job (hooks.py): one snapshot, committed."""
	try:
		take_snapshot("Scheduled")
		frappe.db.commit()
	except Exception:
		frappe.db.rollback()
		frappe.log_error(title=_("Weekly forecast snapshot failed"), reference_doctype=DOCTYPE)
		raise
