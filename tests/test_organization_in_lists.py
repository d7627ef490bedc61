"""Opportunity's organization in the desk: a list column, a search field of the list and of global search,
and a filter of the forecast report."""

import json

import frappe
from frappe.desk.search import search_widget

from opportunity_suite.services import list_views
from opportunity_suite.services.forecast_report import run as run_forecast
from tests.factories import make_opportunity, unique
from tests.records_fixtures import make_organization


def test_the_organization_is_a_column_a_search_field_and_a_report_filter():
	list_views.ensure_list_views()
	meta = frappe.get_meta("Opportunity")
	settings = json.loads(frappe.db.get_value("List View Settings", "Opportunity", "fields"))
	assert [f["fieldname"] for f in settings][:3] == ["status_field", "sales_stage", "organization"]
	assert meta.get_field("organization").in_list_view and meta.get_field("organization").in_global_search
	assert "organization" in meta.search_fields.split(",")

	org = make_organization(organization_name=unique("Acme Widgets")).name
	other = make_organization(organization_name=unique("Other")).name
	opp = make_opportunity(organization=org, amount=100)
	make_opportunity(organization=other, amount=100)
	# the list's search (search_fields) finds it by a word of its organization's name
	found = search_widget("Opportunity", txt=org.split()[-1], page_length=10)
	assert opp.name in {row[0] for row in found}
	rows = run_forecast(
		{"organization": org, "from_date": opp.expected_close_date, "to_date": opp.expected_close_date}
	)[1]
	assert sum(r["opportunities"] for r in rows) == 1
