# ruff: noqa: F811 (the cleanup fixture is imported, then used as an argument)
"""One set of rules: an opportunity imported and the same opportunity saved store the same thing, an
import never writes what a save may not (read-only, derived fields), and a record taking its amount from
its lines keeps their total whatever the file says."""

import frappe
import pytest

from opportunity_suite.services.importing.mapping import MappingError, importable_fields
from tests.factories import make_opportunity, unique
from tests.import_fixtures import cleanup, csv_bytes, new_import, prepare, run  # noqa: F401 (fixture)
from tests.records_fixtures import line, make_product

COMPARED = (
	"amount",
	"currency",
	"exchange_rate",
	"base_amount",
	"probability",
	"probability_is_manual",
	"forecast_amount",
	"base_forecast_amount",
	"sales_stage",
	"status",
	"closed_on",
	"lost_reason",
	"assigned_to",
	"next_step",
	"is_stale",  # the stale radar: a save refreshes it after its INSERT, an import writes it in its own
	"stale_reason",
)

CASES = [
	# (label, values given as a save would get them, the same as a CSV row)
	("stage default", {"sales_stage": "Qualification", "amount": 1000}),
	("manual probability", {"sales_stage": "Qualification", "amount": 1000, "probability": 35}),
	("won", {"sales_stage": "Closed Won", "amount": 250.5}),
	(
		"lost with reason",
		{"sales_stage": "Closed Lost", "amount": 99, "lost_reason": "Price", "next_step": "=call back"},
	),
	# stale: its close date has passed (and, as every new deal, it has no planned to-do or event)
	(
		"close date passed",
		{"sales_stage": "Qualification", "amount": 10, "expected_close_date": "2020-01-31"},
	),
]


def _stored(name):
	return frappe.db.get_value("Opportunity", name, list(COMPARED), as_dict=True)


@pytest.mark.parametrize("label,values", CASES, ids=[c[0] for c in CASES])
def test_save_and_import_store_the_same_thing(cleanup, label, values):
	tag = unique("Same")
	values = {"expected_close_date": "2099-12-31", **values}
	saved = make_opportunity(opportunity_name=f"{tag} saved", **values)
	frappe.db.commit()
	cleanup["Opportunity"].append(saved.name)
	header = ["Opportunity Name", *(frappe.get_meta("Opportunity").get_label(f) for f in values)]
	row = [f"{tag} imported", *(str(v) for v in values.values())]
	doc = new_import(cleanup, csv_bytes([header, row]))
	prepare(doc)
	run(doc)
	assert (doc.created_count, doc.failed_count) == (1, 0), doc.error
	imported = frappe.db.get_value("Opportunity", {"opportunity_name": f"{tag} imported"}, "name")
	assert _stored(imported) == _stored(saved.name)
	if label == "close date passed":  # the case is what it says
		assert "Expected close date has passed" in _stored(imported).stale_reason


def test_a_disabled_lead_source_is_refused_by_save_and_import_alike(cleanup):
	from tests.factories import make_picklist_value

	retired = make_picklist_value("Lead Source", "Retired", disabled=1)
	frappe.db.commit()
	try:
		with pytest.raises(frappe.ValidationError, match="disabled"):
			make_opportunity(lead_source=retired.name)
		frappe.db.rollback()
		tag = unique("Disabled")
		rows = [
			["Opportunity Name", "Sales Stage", "Expected Close Date", "Lead Source"],
			[f"{tag} A", "Prospecting", "2026-12-31", retired.name],
		]
		doc = new_import(cleanup, csv_bytes(rows))
		prepare(doc)
		run(doc)
		assert (doc.created_count, doc.failed_count) == (0, 1)
	finally:
		frappe.db.rollback()
		frappe.delete_doc("Lead Source", retired.name, force=True)
		frappe.db.commit()


def test_read_only_and_derived_fields_are_never_importable():
	fields = importable_fields()
	meta = frappe.get_meta("Opportunity")
	for fieldname in (
		"project",
		"converted_on",
		"lead",
		"forecast_amount",
		"base_amount",
		"status",
		"closed_on",
	):
		assert meta.has_field(fieldname)
		assert fieldname not in fields, fieldname
	assert {"opportunity_name", "amount", "sales_stage", "assigned_to"} <= set(fields)


def test_overwrite_can_not_set_project_or_converted_on(cleanup):
	tag = unique("Conv")
	existing = make_opportunity(opportunity_name=f"{tag} existing")
	frappe.db.commit()
	cleanup["Opportunity"].append(existing.name)
	project = frappe.get_doc({"doctype": "Project", "project_name": unique("Proj")}).insert()
	frappe.db.commit()
	try:
		rows = [
			["Opportunity Name", "Next Step", "Project", "Converted On"],
			[f"{tag} existing", "call", project.name, "2026-01-01 10:00:00"],
		]
		doc = new_import(
			cleanup, csv_bytes(rows), duplicate_policy="Overwrite", match_fields="opportunity_name"
		)
		prepare(doc)
		# Project and Converted On are not offered: they stay unmapped, to be ignored
		by_header = {c.header: c for c in doc.columns}
		assert by_header["Project"].fieldname is None and by_header["Converted On"].fieldname is None
		# nor taken when typed in by hand
		by_header["Project"].fieldname = "project"
		by_header["Converted On"].fieldname = "converted_on"
		doc.save()
		frappe.db.commit()
		with pytest.raises(MappingError):
			run(doc)
		frappe.db.rollback()
		# nor through the run's defaults
		doc.reload()
		for column in doc.columns:
			column.fieldname = {"Opportunity Name": "opportunity_name", "Next Step": "next_step"}.get(
				column.header
			)
			column.ignore = 0 if column.fieldname else 1
		doc.defaults = frappe.as_json({"project": project.name})
		doc.save()
		frappe.db.commit()
		with pytest.raises(frappe.ValidationError):
			run(doc)
		frappe.db.rollback()
		stored = frappe.db.get_value("Opportunity", existing.name, ["project", "converted_on"], as_dict=True)
		assert (stored.project, stored.converted_on) == (None, None)
	finally:
		frappe.db.rollback()
		frappe.delete_doc("Project", project.name, force=True)
		frappe.db.commit()


def test_overwrite_keeps_the_lines_total_as_amount(cleanup):
	tag = unique("Lines")
	product = make_product(unit_price=40)
	existing = make_opportunity(
		opportunity_name=f"{tag} existing",
		amount_from_items=1,
		items=[line(product, qty=3)],
	)
	frappe.db.commit()
	cleanup["Opportunity"].append(existing.name)
	assert existing.amount == 120
	try:
		rows = [["Opportunity Name", "Amount", "Next Step"], [f"{tag} existing", "999", "call"]]
		doc = new_import(
			cleanup, csv_bytes(rows), duplicate_policy="Overwrite", match_fields="opportunity_name"
		)
		prepare(doc)
		run(doc)
		assert (doc.updated_count, doc.failed_count) == (1, 0)
		stored = frappe.db.get_value(
			"Opportunity", existing.name, ["amount", "next_step", "forecast_amount"], as_dict=True
		)
		saved = frappe.get_doc("Opportunity", existing.name)
		saved.amount = 999
		saved.save()  # what a save does with the same input
		assert (stored.amount, stored.next_step) == (120, "call")
		assert (stored.amount, stored.forecast_amount) == (saved.amount, saved.forecast_amount)
	finally:
		frappe.db.rollback()
		frappe.delete_doc("Opportunity", existing.name, force=True)
		frappe.delete_doc("Product", product.name, force=True)
		frappe.db.commit()
