"""Layout and picklist editors: a field added through Customize Form reaches the form, the list settings and
the Data Import template; a lead source added there is accepted; a new stage reaches the form's stage
picker, the Kanban board and the report. Customize Form's DDL commits, so these tests clean up."""

import json

import frappe
import pytest
from frappe.core.doctype.data_import.exporter import Exporter
from frappe.desk.search import search_link

from opportunity_suite.services.forecast_report import run as run_forecast
from opportunity_suite.services.kanban import BOARD_NAME
from tests.factories import make_opportunity, unique


def _customize():
	form = frappe.get_doc("Customize Form")
	form.doc_type = "Opportunity"
	form.fetch_to_customize()
	return form


@pytest.fixture
def custom_field():
	"""A Data field "Budget Code" added through Customize Form (committed; removed afterwards)."""
	label = unique("Budget Code").replace(" ", "")
	form = _customize()
	form.append(
		"fields", {"label": label, "fieldtype": "Data", "is_custom_field": 1, "insert_after": "next_step"}
	)
	form.save_customization()
	frappe.db.commit()
	fieldname = frappe.db.get_value("Custom Field", {"dt": "Opportunity", "label": label}, "fieldname")
	listview = frappe.db.get_value(
		"List View Settings", "Opportunity", ["fields", "total_fields"], as_dict=True
	)
	try:
		yield fieldname, label
	finally:
		frappe.db.rollback()
		if listview:
			frappe.db.set_value("List View Settings", "Opportunity", listview)
		frappe.db.delete("Property Setter", {"doc_type": "Opportunity", "field_name": fieldname})
		frappe.db.delete("Property Setter", {"doc_type": "Opportunity", "property": "field_order"})
		frappe.delete_doc("Custom Field", f"Opportunity-{fieldname}", force=True)
		frappe.db.commit()
		frappe.clear_cache(doctype="Opportunity")


def test_a_customize_form_field_reaches_form_list_settings_and_import_template(custom_field):
	fieldname, label = custom_field
	meta = frappe.get_meta("Opportunity")
	df = meta.get_field(fieldname)
	assert df and df.label == label  # the form's meta (what the desk's form renders)

	# the list settings dialog offers it, and putting it in the list works
	from frappe.desk.doctype.list_view_settings.list_view_settings import save_listview_settings

	current = json.loads(frappe.db.get_value("List View Settings", "Opportunity", "fields") or "[]")
	response = save_listview_settings(
		"Opportunity", {"fields": json.dumps([*current, {"fieldname": fieldname}]), "total_fields": "10"}, []
	)
	assert response["meta"].get_field(fieldname).in_list_view

	# Data Import's template (the exporter behind "Download Template") has its column
	template = Exporter("Opportunity", export_fields={"Opportunity": ["opportunity_name", fieldname]})
	assert template.get_csv_array()[0] == ["Opportunity Name", label]

	opp = make_opportunity(**{fieldname: "B-42"})
	assert frappe.db.get_value("Opportunity", opp.name, fieldname) == "B-42"


@pytest.fixture
def lead_source_option():
	"""A lead source added as a Property Setter on the options (committed; removed afterwards)."""
	from frappe.custom.doctype.property_setter.property_setter import make_property_setter

	original = frappe.get_meta("Opportunity").get_field("lead_source").options
	option = unique("Podcast")
	make_property_setter("Opportunity", "lead_source", "options", f"{original}\n{option}", "Text")
	frappe.db.commit()
	try:
		yield option
	finally:
		frappe.db.rollback()
		frappe.db.delete(
			"Property Setter", {"doc_type": "Opportunity", "field_name": "lead_source", "property": "options"}
		)
		frappe.db.commit()
		frappe.clear_cache(doctype="Opportunity")


def test_customize_form_refuses_new_options_on_a_standard_select():
	"""Frappe v15's Customize Form only lets options of Data/Read Only/HTML fields change (its
	ALLOWED_OPTIONS_CHANGE): a standard Select like lead_source keeps its options there."""
	form = _customize()
	row = form.get("fields", {"fieldname": "lead_source"})[0]
	row.options = f"{row.options}\n{unique('Podcast')}"
	form.save_customization()
	assert not frappe.db.exists("Property Setter", {"doc_type": "Opportunity", "field_name": "lead_source"})
	frappe.db.rollback()


def test_a_picklist_option_added_as_a_property_setter_is_accepted(lead_source_option):
	opp = make_opportunity(lead_source=lead_source_option)
	assert opp.lead_source == lead_source_option
	with pytest.raises(frappe.ValidationError):
		make_opportunity(lead_source=unique("Never offered"))


def test_a_new_stage_reaches_the_stage_picker_kanban_and_report():
	stage = frappe.get_doc(
		{
			"doctype": "Opportunity Stage",
			"stage_name": unique("Pilot"),
			"sequence": 55,
			"default_probability": 60,
		}
	).insert()
	# the form's stage picker (opportunity.js: set_query filters disabled = 0)
	picked = [r["value"] for r in search_link("Opportunity Stage", stage.name, filters={"disabled": 0})]
	assert stage.name in picked
	# the Kanban board
	assert stage.name in [c.column_name for c in frappe.get_doc("Kanban Board", BOARD_NAME).columns]
	# an opportunity in it, in the list and in the report
	opp = make_opportunity(sales_stage=stage.name, amount=1000)
	assert (opp.probability, opp.forecast_amount) == (60, 600)
	assert frappe.get_list("Opportunity", filters={"sales_stage": stage.name}, pluck="name") == [opp.name]
	rows = run_forecast(
		{"sales_stage": stage.name, "from_date": opp.expected_close_date, "to_date": opp.expected_close_date}
	)[1]
	assert [(r["sales_stage"], r["base_forecast_amount"]) for r in rows] == [(stage.name, 600)]

	# renamed: opportunities and column follow; disabled: no longer offered, column archived
	new_name = unique("Pilot renamed")
	frappe.rename_doc("Opportunity Stage", stage.name, new_name)
	assert frappe.db.get_value("Opportunity", opp.name, "sales_stage") == new_name
	frappe.db.set_value("Opportunity Stage", new_name, "disabled", 1)
	stage = frappe.get_doc("Opportunity Stage", new_name)
	stage.save()
	assert new_name not in [
		r["value"] for r in search_link("Opportunity Stage", new_name, filters={"disabled": 0})
	]
	columns = {c.column_name: c.status for c in frappe.get_doc("Kanban Board", BOARD_NAME).columns}
	assert columns[new_name] == "Archived"
