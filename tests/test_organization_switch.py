"""The organization-dependent parts switch on once Opportunity has an `organization` field (the records
branch adds it): list column, search (global and list), forecast report filter. Simulated here with a
custom Data field of that name, removed afterwards (column dropped) — its DDL commits."""

import json

import frappe
import pytest

from opportunity_suite.services import list_views
from opportunity_suite.services.forecast_report import run as run_forecast
from tests.factories import make_opportunity, unique


@pytest.fixture
def organization_field():
	if frappe.get_meta("Opportunity").has_field("organization"):
		pytest.skip("Opportunity already has its organization field")
	listview = frappe.db.get_value(
		"List View Settings", "Opportunity", ["fields", "total_fields"], as_dict=True
	)
	frappe.get_doc(
		{
			"doctype": "Custom Field",
			"dt": "Opportunity",
			"fieldname": "organization",
			"label": "Organization",
			"fieldtype": "Data",
			"insert_after": "opportunity_name",
		}
	).insert()
	frappe.db.commit()
	try:
		yield
	finally:
		frappe.db.rollback()
		frappe.delete_doc("Custom Field", "Opportunity-organization", force=True)
		frappe.db.delete("Property Setter", {"doc_type": "Opportunity", "property": "search_fields"})
		frappe.db.set_value("List View Settings", "Opportunity", listview)
		frappe.db.commit()
		frappe.db.sql_ddl("alter table `tabOpportunity` drop column `organization`")
		frappe.cache.hdel("table_columns", "tabOpportunity")
		frappe.clear_cache(doctype="Opportunity")


def test_organization_parts_switch_on_when_the_field_exists(organization_field):
	list_views.ensure_list_views()
	frappe.clear_cache(doctype="Opportunity")
	meta = frappe.get_meta("Opportunity")
	settings = json.loads(frappe.db.get_value("List View Settings", "Opportunity", "fields"))
	assert [f["fieldname"] for f in settings][:2] == ["status_field", "organization"]
	assert meta.get_field("organization").in_list_view and meta.get_field("organization").in_global_search
	assert "organization" in meta.search_fields.split(",")

	org = unique("Acme")
	opp = make_opportunity(organization=org, amount=100)
	make_opportunity(organization=unique("Other"), amount=100)
	# the list's search (search_fields) and the report's organization filter
	from frappe.desk.search import search_widget

	found = search_widget("Opportunity", txt=org.split()[-1], page_length=10)
	assert opp.name in {row[0] for row in found}
	rows = run_forecast(
		{"organization": org, "from_date": opp.expected_close_date, "to_date": opp.expected_close_date}
	)[1]
	assert sum(r["opportunities"] for r in rows) == 1
