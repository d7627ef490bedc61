"""The Opportunity list as shipped: columns, saved filters, report views (idempotent)."""

import json

import frappe
from frappe.utils import add_days, get_first_day, get_last_day, today

from opportunity_suite.services import list_views
from tests.factories import make_opportunity, make_user


def test_list_columns_show_stage_amounts_and_close_date():
	settings = frappe.get_doc("List View Settings", "Opportunity")
	fields = [f["fieldname"] for f in json.loads(settings.fields)]
	assert fields[0] == "status_field"  # the status indicator
	assert {"sales_stage", "amount", "forecast_amount", "expected_close_date"} <= set(fields)
	assert int(settings.total_fields) >= len(fields) + 2
	meta = frappe.get_meta("Opportunity")
	assert ("organization" in fields) == meta.has_field("organization")
	assert meta.sort_field == "modified" and meta.sort_order == "DESC"


def test_shipped_records_are_created_once():
	before = frappe.db.count("List Filter", {"reference_doctype": "Opportunity"})
	reports = frappe.db.count("Report", {"ref_doctype": "Opportunity", "report_type": "Report Builder"})
	list_views.ensure_list_views()
	list_views.ensure_list_views()
	assert frappe.db.count("List Filter", {"reference_doctype": "Opportunity"}) == before
	assert (
		frappe.db.count("Report", {"ref_doctype": "Opportunity", "report_type": "Report Builder"}) == reports
	)
	names = set(frappe.get_all("List Filter", {"reference_doctype": "Opportunity"}, pluck="filter_name"))
	assert set(list_views.SAVED_FILTERS) <= names
	for report in list_views.SAVED_REPORTS:
		doc = frappe.get_doc("Report", report)
		assert doc.report_type == "Report Builder" and doc.is_standard == "No"
		assert json.loads(doc.json)["fields"]


def _apply(filter_name: str, user: str) -> set[str]:
	filters = json.loads(
		frappe.db.get_value(
			"List Filter", {"reference_doctype": "Opportunity", "filter_name": filter_name}, "filters"
		)
	)
	filters = [[v if v != list_views.CURRENT_USER else user for v in f] for f in filters]
	return set(frappe.get_list("Opportunity", filters=filters, pluck="name", limit=0))


def test_saved_filters_select_the_right_opportunities():
	user = make_user("Sales User")
	first, last = get_first_day(today()), get_last_day(today())
	mine = make_opportunity(assigned_to=user, expected_close_date=last)
	theirs = make_opportunity(assigned_to="Administrator", expected_close_date=first)
	later = make_opportunity(assigned_to=user, expected_close_date=add_days(last, 40))
	hot = make_opportunity(sales_stage="Negotiation/Review", expected_close_date=add_days(last, 40))
	won = make_opportunity(assigned_to=user, sales_stage="Closed Won", expected_close_date=first)

	my_open = _apply("My open opportunities", user)
	assert {mine.name, later.name} <= my_open and not {theirs.name, won.name} & my_open
	closing = _apply("Closing this month", user)
	assert {mine.name, theirs.name} <= closing and not {later.name, won.name} & closing
	hot_deals = _apply("Hot deals", user)
	assert hot.name in hot_deals and not {mine.name, won.name} & hot_deals


def test_saved_report_view_runs_through_report_view():
	from frappe.desk.reportview import get_list as reportview_get_list

	report = json.loads(frappe.db.get_value("Report", "Hot Deals", "json"))
	hot = make_opportunity(sales_stage="Negotiation/Review", amount=1000)
	frappe.local.form_dict = frappe._dict(
		doctype="Opportunity",
		fields=frappe.as_json([f"`tabOpportunity`.`{f}`" for f, _dt in report["fields"]]),
		filters=frappe.as_json(report["filters"]),
		order_by=report["order_by"],
		page_length=500,
	)
	try:
		result = reportview_get_list()
	finally:
		frappe.local.form_dict = frappe._dict()
	assert hot.name in {r["name"] for r in result}
