import frappe
from frappe.utils.global_search import search, sync_global_search

from tests.factories import make_opportunity, unique


def test_global_search_finds_an_opportunity_by_name_and_number():
	name = unique("Zephyrine deal")
	opp = make_opportunity(opportunity_name=name, amount=10)
	sync_global_search()
	assert opp.name in {r.name for r in search(name.split()[-1], doctype="Opportunity")}
	assert opp.name in {r.name for r in search(opp.name, doctype="Opportunity")}


def test_opportunity_is_offered_in_global_search_settings():
	allowed = frappe.get_all(
		"Global Search DocType", filters={"parent": "Global Search Settings"}, pluck="document_type"
	)
	assert "Opportunity" in allowed


def test_filter_and_sort_fields_are_indexed():
	indexed = {
		row.Column_name
		for row in frappe.db.sql("show index from `tabOpportunity`", as_dict=True)
		if row.Key_name != "PRIMARY"
	}
	assert {"sales_stage", "status", "expected_close_date", "assigned_to", "closed_on"} <= indexed
