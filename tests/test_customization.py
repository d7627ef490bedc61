# ruff: noqa: F811 (the cleanup fixture is imported, then used as an argument)
"""Layout and picklist editors: a field added through Customize Form reaches the form, the list settings and
the Data Import template; a new stage reaches the form's stage picker, the Kanban board and the report; the
other picklists (Opportunity Type, Lead Source) are records edited in their lists: new, disabled and renamed
values take effect at once on opportunities, leads and imports. Customize Form's DDL and imports commit, so
those tests clean up."""

import csv
import io
import json

import frappe
import pytest
from frappe.core.doctype.data_import.exporter import Exporter
from frappe.desk.search import search_link
from frappe.utils import cstr

from opportunity_suite.services.forecast_report import run as run_forecast
from opportunity_suite.services.kanban import BOARD_NAME
from opportunity_suite.services.lead_conversion import convert_lead
from opportunity_suite.services.picklists import (
	DEFAULT_VALUES,
	NAME_FIELDS,
	DisabledPicklistValueError,
	ensure_picklists,
	stored_values_without_record,
)
from tests.factories import make_opportunity, make_picklist_value, unique
from tests.import_fixtures import cleanup, created, csv_bytes, make_import, prepare, run  # noqa: F401
from tests.records_fixtures import make_lead


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


# (picklist, Opportunity field)
PICKLISTS = [("Opportunity Type", "opportunity_type"), ("Lead Source", "lead_source")]


def offered(picklist: str, text: str) -> list[str]:
	"""What the form's Link field offers when the user types `text` (Frappe's search hides disabled
	records)."""
	return [r["value"] for r in search_link(picklist, text)]


def test_type_and_lead_source_are_links_to_their_shipped_picklists():
	for doctype, fieldname, picklist in (
		("Opportunity", "opportunity_type", "Opportunity Type"),
		("Opportunity", "lead_source", "Lead Source"),
		("Lead", "lead_source", "Lead Source"),
	):
		df = frappe.get_meta(doctype).get_field(fieldname)
		assert (df.fieldtype, df.options) == ("Link", picklist)
	for picklist, values in DEFAULT_VALUES.items():
		assert set(values) <= set(frappe.get_all(picklist, pluck="name"))


@pytest.mark.parametrize("picklist, fieldname", PICKLISTS)
def test_a_new_value_is_offered_and_accepted_at_once(picklist, fieldname):
	value = make_picklist_value(picklist, "Podcast").name
	assert value in offered(picklist, value)
	opp = make_opportunity(**{fieldname: value})
	assert frappe.db.get_value("Opportunity", opp.name, fieldname) == value
	with pytest.raises(frappe.LinkValidationError):
		make_opportunity(**{fieldname: unique("Never offered")})


def test_a_new_lead_source_is_accepted_on_a_lead():
	value = make_picklist_value("Lead Source", "Podcast").name
	assert make_lead(lead_source=value).lead_source == value
	with pytest.raises(frappe.LinkValidationError):
		make_lead(lead_source=unique("Never offered"))


@pytest.mark.parametrize("picklist, fieldname", PICKLISTS)
def test_a_disabled_value_is_refused_on_new_choices_and_kept_where_it_is(picklist, fieldname):
	value = make_picklist_value(picklist, "Retired").name
	old = make_opportunity(**{fieldname: value})
	record = frappe.get_doc(picklist, value)
	record.disabled = 1
	record.save()

	assert value not in offered(picklist, value)
	with pytest.raises(DisabledPicklistValueError, match="disabled"):
		make_opportunity(**{fieldname: value})
	other = make_opportunity()
	other.set(fieldname, value)
	with pytest.raises(DisabledPicklistValueError):
		other.save()
	# the opportunity that had it keeps it through later saves
	old.reload()
	old.next_step = "Call back"
	old.save()
	assert frappe.db.get_value("Opportunity", old.name, fieldname) == value


def test_a_disabled_lead_source_stays_on_its_leads_and_goes_with_their_conversion():
	value = make_picklist_value("Lead Source", "Retired").name
	lead = make_lead(lead_source=value, company_name=unique("Acme"))
	frappe.db.set_value("Lead Source", value, "disabled", 1)
	with pytest.raises(DisabledPicklistValueError):
		make_lead(lead_source=value)
	lead.reload()
	lead.phone = "+1 555 0100"
	lead.save()
	opp = frappe.get_doc("Opportunity", convert_lead(lead.name))
	assert opp.lead_source == value


@pytest.mark.parametrize("picklist, fieldname", PICKLISTS)
def test_renaming_a_value_renames_it_on_opportunities_and_leads(picklist, fieldname):
	value = make_picklist_value(picklist, "Webinar").name
	opp = make_opportunity(**{fieldname: value})
	lead = make_lead(lead_source=value) if picklist == "Lead Source" else None
	new_name = unique("Online Event")
	frappe.rename_doc(picklist, value, new_name)
	assert frappe.db.get_value(picklist, new_name, NAME_FIELDS[picklist]) == new_name
	assert frappe.db.get_value("Opportunity", opp.name, fieldname) == new_name
	if lead:
		assert frappe.db.get_value("Lead", lead.name, "lead_source") == new_name
	assert not frappe.db.exists(picklist, value)


def test_an_import_takes_new_values_in_any_case_and_fails_unknown_or_disabled_ones(cleanup):
	"""Opportunity Import resolves Link fields in bulk from the meta, as it does stages and organizations:
	case and trailing spaces don't matter; an unknown or disabled value fails its row with the reason."""
	kind = make_picklist_value("Opportunity Type", "Upsell").name
	source = make_picklist_value("Lead Source", "Podcast").name
	retired = make_picklist_value("Lead Source", "Retired", disabled=1).name
	frappe.db.commit()
	try:
		tag = unique("Pick")
		header = ["Opportunity Name", "Sales Stage", "Expected Close Date", "Kind", "Came From"]
		rows = [
			header,
			[f"{tag} new", "Prospecting", "2026-12-31", kind.upper(), f"{source.lower()}  "],
			[f"{tag} shipped", "Prospecting", "2026-12-31", "existing business", "Trade Show"],
			[f"{tag} unknown", "Prospecting", "2026-12-31", "", "Carrier Pigeon"],
			[f"{tag} retired", "Prospecting", "2026-12-31", "", retired],
		]
		doc = make_import(csv_bytes(rows))
		cleanup["imports"].append(doc.name)
		prepare(doc, Kind="opportunity_type", **{"Came From": "lead_source"})
		run(doc)
		assert (doc.created_count, doc.failed_count) == (2, 2)
		made = {
			r.opportunity_name: (r.opportunity_type, r.lead_source)
			for r in frappe.get_all(
				"Opportunity",
				filters={"name": ("in", created(doc))},
				fields=["opportunity_name", "opportunity_type", "lead_source"],
			)
		}
		assert made == {
			f"{tag} new": (kind, source),
			f"{tag} shipped": ("Existing Business", "Trade Show"),
		}
		failed = frappe.get_doc("File", {"file_url": doc.failed_rows_file}).get_content()
		reasons = {r[0]: r[-1] for r in csv.reader(io.StringIO(cstr(failed)))}
		assert "Lead Source Carrier Pigeon not found" in reasons[f"{tag} unknown"]
		assert "disabled" in reasons[f"{tag} retired"]
	finally:
		frappe.db.rollback()
		for picklist, name in (("Opportunity Type", kind), ("Lead Source", source), ("Lead Source", retired)):
			frappe.db.delete(picklist, {"name": name})
		frappe.db.commit()


def test_every_stored_value_gets_a_record_at_migrate():
	"""Values the Select fields stored (or a raw write left) become records: no link points at nothing."""
	source, kind, lead_only = unique("Legacy Fair"), unique("Legacy Kind"), unique("Legacy Flyer")
	opp = make_opportunity()
	lead = make_lead()
	frappe.db.set_value("Opportunity", opp.name, {"lead_source": source, "opportunity_type": kind})
	frappe.db.set_value("Lead", lead.name, "lead_source", lead_only)
	assert {source, lead_only} <= set(stored_values_without_record("Lead Source"))
	assert kind in stored_values_without_record("Opportunity Type")

	ensure_picklists()
	assert frappe.db.exists("Lead Source", source) and frappe.db.exists("Lead Source", lead_only)
	assert frappe.db.exists("Opportunity Type", kind)
	assert not {source, lead_only} & set(stored_values_without_record("Lead Source"))
	ensure_picklists()  # idempotent
	assert frappe.db.count("Lead Source", {"name": source}) == 1
	opp.reload()
	opp.save()  # its links are valid


def test_the_migration_patch_keeps_options_added_to_the_old_selects_and_drops_their_setters():
	"""A site that added an option through a hand-made Property Setter (the only way while the fields
	were Selects) keeps it as a record; the setters would bend the Links, so they go."""
	from opportunity_suite.patches.picklists_as_records import execute

	option = unique("Podcast")
	for doctype, prop, value in (
		("Opportunity", "options", f"\nCold Call\n{option}"),
		("Lead", "options", f"\nCold Call\n{option}"),
		("Lead", "fieldtype", "Select"),
	):
		# written as the Select's Customize Form / make_property_setter left them (their validation
		# would now refuse an option list on a Link)
		frappe.get_doc(
			{
				"doctype": "Property Setter",
				"doctype_or_field": "DocField",
				"doc_type": doctype,
				"field_name": "lead_source",
				"property": prop,
				"property_type": "Text" if prop == "options" else "Data",
				"value": value,
			}
		).db_insert()
	try:
		execute()
		assert frappe.db.exists("Lead Source", option)
		assert not frappe.db.exists("Property Setter", {"field_name": "lead_source"})
		for doctype in ("Opportunity", "Lead"):
			df = frappe.get_meta(doctype).get_field("lead_source")
			assert (df.fieldtype, df.options) == ("Link", "Lead Source")
	finally:
		frappe.db.rollback()
		frappe.clear_cache(doctype="Opportunity")
		frappe.clear_cache(doctype="Lead")


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
