# ruff: noqa: F811 (the cleanup fixture is imported, then used as an argument)
"""The import form as a person uses it: the column map and the defaults choose fields by label (the
importable fields only), the defaults are a table of field → value (an older import's JSON still read),
and the preview shows the first 20 rows as the run would store them — links resolved, numbers and dates
parsed, each row's warnings or error — while writing nothing."""

import frappe
import pytest
from frappe.utils import add_days, getdate, today

from opportunity_suite.api import importing as api
from opportunity_suite.services.importing.mapping import importable_field_options
from tests.factories import make_opportunity, make_user, unique
from tests.import_fixtures import IMPORT, cleanup, csv_bytes, new_import, prepare, run  # noqa: F401

HEADER = ["Opportunity Name", "Organization", "Amount", "Sales Stage", "Expected Close Date"]


def counts() -> dict:
	return {
		"Opportunity": frappe.db.count("Opportunity"),
		"Organization": frappe.db.count("Organization"),
		"ToDo": frappe.db.count("ToDo"),
		"series": frappe.db.sql("SELECT SUM(`current`) FROM `tabSeries`")[0][0],
		"search": frappe.db.count("__global_search"),
	}


def test_fields_are_offered_by_label_and_only_importable_ones():
	options = importable_field_options()
	by_value = {o["value"]: o["label"] for o in options}
	assert by_value["opportunity_name"] == "Opportunity Name"
	assert by_value["expected_close_date"] == "Expected Close Date"
	for computed in ("forecast_amount", "status", "amount_from_items", "project", "converted_on"):
		assert computed not in by_value  # derived or read-only: never a choice
	labels = [o["label"] for o in options]
	assert labels == sorted(labels, key=str.casefold) and len(set(labels)) == len(labels)


def test_the_form_gets_the_choices_and_stores_fieldnames(cleanup):
	doc = new_import(cleanup, csv_bytes([HEADER, ["x", "", "1", "Prospecting", "2026-12-31"]]))
	doc.run_method("onload")
	offered = doc.get_onload().importable_fields
	assert {"value": "sales_stage", "label": "Sales Stage"} in offered
	prepare(doc)
	assert [c.fieldname for c in doc.columns] == [
		"opportunity_name",
		"organization",
		"amount",
		"sales_stage",
		"expected_close_date",
	]


def test_defaults_table_fills_empty_cells_and_the_old_json_still_counts(cleanup):
	tag = unique("Defaults")
	close = add_days(today(), 40)
	rows = [["Opportunity Name", "Sales Stage"], [f"{tag} a", ""], [f"{tag} b", "Qualification"]]
	doc = new_import(
		cleanup,
		csv_bytes(rows),
		defaults='{"next_step": "from the JSON", "sales_stage": "Negotiation"}',
		default_values=[
			{"fieldname": "sales_stage", "value": "Prospecting"},  # the table wins over the JSON
			{"fieldname": "expected_close_date", "value": close},
		],
	)
	prepare(doc)
	run(doc)
	assert (doc.status, doc.created_count) == ("Completed", 2)
	made = {
		r.opportunity_name: r
		for r in frappe.get_all(
			"Opportunity",
			{"opportunity_name": ("like", f"{tag}%")},
			["name", "opportunity_name", "sales_stage", "expected_close_date", "next_step"],
		)
	}
	cleanup["Opportunity"].extend(r.name for r in made.values())
	assert made[f"{tag} a"].sales_stage == "Prospecting"
	assert made[f"{tag} b"].sales_stage == "Qualification"  # the row's own cell first
	assert {r.expected_close_date for r in made.values()} == {getdate(close)}
	assert {r.next_step for r in made.values()} == {"from the JSON"}


def test_a_default_that_does_not_parse_is_named_by_its_label(cleanup):
	doc = new_import(
		cleanup,
		csv_bytes([["Opportunity Name"], ["x"]]),
		default_values=[{"fieldname": "expected_close_date", "value": "not a date"}],
	)
	prepare(doc)
	with pytest.raises(frappe.ValidationError, match="Expected Close Date"):
		api.preview_import(doc.name)


def test_preview_shows_rows_as_stored_and_writes_nothing(cleanup):
	tag = unique("Preview")
	existing = make_opportunity(opportunity_name=f"{tag} existing", amount=10)
	frappe.db.commit()
	cleanup["Opportunity"].append(existing.name)
	new_org = f"{tag} New Org"
	rows = [
		HEADER,
		[f"{tag} one", new_org, "1,234.50", "Qualification", "31/12/2026"],  # 2: created, org to be made
		[f"{tag} bad", "", "12", "No Such Stage", "31/12/2026"],  # 3: failed, its reason
		[f"{tag} existing", "", "99", "Prospecting", "01/01/2027"],  # 4: updated (Overwrite)
		[f"{tag} <b>html</b>", "", "-5", "Prospecting", "01/01/2027"],  # 5: failed, negative amount
	]
	rows += [[f"{tag} more {i}", "", "1", "Prospecting", "01/01/2027"] for i in range(25)]
	doc = new_import(
		cleanup,
		csv_bytes(rows),
		date_format="dd/mm/yyyy",
		duplicate_policy="Overwrite",
		match_fields="opportunity_name",
		create_missing_organizations=1,
	)
	prepare(doc)
	frappe.db.commit()
	before = counts()

	shown = api.preview_import(doc.name)

	assert counts() == before  # nothing written: no record, organization, assignment, number, search row
	assert not frappe.db.exists("Organization", {"organization_name": new_org})
	assert frappe.db.get_value("Opportunity", existing.name, "amount") == 10
	assert [c["fieldname"] for c in shown["columns"]] == [
		"opportunity_name",
		"organization",
		"amount",
		"sales_stage",
		"expected_close_date",
	]
	assert shown["columns"][2]["label"] == "Amount"
	by_row = {r["row_no"]: r for r in shown["rows"]}
	assert len(by_row) == 20 and sorted(by_row) == list(range(2, 22))  # the first 20 rows only
	one = by_row[2]
	assert one["status"] == "created" and one["record"] is None
	assert one["values"]["amount"] == 1234.5
	assert one["values"]["expected_close_date"] == "2026-12-31"
	assert one["values"]["organization"]  # the organization the run would create, linked
	assert by_row[3]["status"] == "failed" and "No Such Stage" in by_row[3]["message"]
	assert by_row[4]["status"] == "updated" and by_row[4]["record"] == existing.name
	assert by_row[4]["values"]["amount"] == 99
	assert by_row[5]["status"] == "failed" and by_row[5]["message"]
	assert by_row[6]["status"] == "created"

	# the run then does what the preview showed
	run(doc)
	assert (doc.created_count, doc.updated_count, doc.failed_count) == (26, 1, 2)
	made = frappe.get_all("Opportunity", {"opportunity_name": ("like", f"{tag}%")}, pluck="name")
	cleanup["Opportunity"].extend(made)
	cleanup["Organization"].extend(
		frappe.get_all("Organization", {"organization_name": new_org}, pluck="name")
	)


def test_preview_needs_import_rights(cleanup):
	manager, seller = make_user("Sales Manager"), make_user("Sales User")
	cleanup["User"].extend([manager, seller])
	frappe.db.commit()
	frappe.set_user(manager)
	try:
		doc = new_import(cleanup, csv_bytes([HEADER, ["x", "", "1", "Prospecting", "2026-12-31"]]))
		prepare(doc)
		frappe.db.commit()
		assert api.preview_import(doc.name)["rows"][0]["status"] == "created"
		frappe.set_user(seller)  # may read imports, may not import opportunities
		with pytest.raises(frappe.PermissionError):
			api.preview_import(doc.name)
	finally:
		frappe.set_user("Administrator")
