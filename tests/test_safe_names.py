"""Picklist names (Opportunity Stage, Opportunity Type, Lead Source) refuse what Frappe would put into an
attribute unescaped; an Organization's ID drops it; names stored before are renamed by the patch."""

import frappe
import pytest

from opportunity_suite.patches import safe_record_names
from opportunity_suite.services.kanban import BOARD_NAME
from opportunity_suite.services.picklists import ensure_records_for_stored_values
from opportunity_suite.services.safe_names import UnsafeNameError, safe_name
from tests.factories import make_opportunity, make_user, unique

HOSTILE = (
	"Hot' onmouseover='alert(1)",
	'Hot" onfocus="alert(1)" autofocus x="',
	"Hot` x",
	"Hot\x01",
	"Line\nbreak",
)
PICKLISTS = {
	"Opportunity Stage": lambda name: {
		"stage_name": name,
		"stage_type": "Open",
		"sequence": 90,
		"default_probability": 10,
	},
	"Opportunity Type": lambda name: {"type_name": name},
	"Lead Source": lambda name: {"source_name": name},
}


def _picklist(doctype: str, name: str):
	return frappe.get_doc({"doctype": doctype, **PICKLISTS[doctype](name)})


@pytest.mark.parametrize("doctype", PICKLISTS)
def test_a_sales_manager_cannot_save_a_hostile_picklist_name(doctype):
	frappe.set_user(make_user("Sales Manager"))
	for name in HOSTILE:
		with pytest.raises(UnsafeNameError, match="can't contain"):
			_picklist(doctype, name).insert()
	# what names need stays allowed
	_picklist(doctype, unique("R&D / Review (2nd), 50% - ok")).insert()


@pytest.mark.parametrize("doctype", PICKLISTS)
def test_renaming_into_a_hostile_name_is_refused(doctype):
	doc = _picklist(doctype, unique("Plain")).insert()
	with pytest.raises(UnsafeNameError):
		frappe.rename_doc(doctype, doc.name, "Hot' onmouseover='alert(1)", force=True)


def test_an_organization_keeps_its_name_and_gets_a_safe_id():
	typed = unique('Acme "Best" O\'Brien `&` Sons')
	org = frappe.get_doc({"doctype": "Organization", "organization_name": typed}).insert()
	assert org.organization_name == typed
	assert org.name == safe_name(typed) and not set("\"'`") & set(org.name)
	with pytest.raises(UnsafeNameError):
		frappe.rename_doc("Organization", org.name, "x' onmouseover='y", force=True)


def test_the_patch_renames_stored_hostile_names_and_links_follow():
	tag = frappe.generate_hash(length=6)
	stage = f"Hot{tag}' onmouseover='alert(1)"
	source = f'Src{tag}" onfocus="alert(1)'
	org = f"Org{tag}' onmouseover='alert(1)"
	# stored before the rule (or written past validation): straight into the tables
	_picklist("Opportunity Stage", stage).db_insert()
	_picklist("Lead Source", source).db_insert()
	frappe.get_doc({"doctype": "Organization", "name": org, "organization_name": org}).db_insert()
	opp = make_opportunity(sales_stage=stage, lead_source=source, organization=org)
	if frappe.db.exists("Kanban Board", BOARD_NAME):
		from opportunity_suite.services.kanban import sync_board_columns

		sync_board_columns()

	safe_record_names.execute()

	opp.reload()
	assert opp.sales_stage == f"Hot{tag} onmouseover=alert(1)"
	assert opp.lead_source == f"Src{tag} onfocus=alert(1)"
	assert opp.organization == f"Org{tag} onmouseover=alert(1)"
	assert frappe.db.get_value("Opportunity Stage", opp.sales_stage, "stage_name") == opp.sales_stage
	assert not frappe.db.exists("Opportunity Stage", stage)
	if frappe.db.exists("Kanban Board", BOARD_NAME):
		columns = frappe.get_all("Kanban Board Column", filters={"parent": BOARD_NAME}, pluck="column_name")
		assert opp.sales_stage in columns and stage not in columns
	safe_record_names.execute()  # idempotent: nothing left to rename


def test_a_stored_hostile_value_without_a_record_gets_a_safe_one():
	opp = make_opportunity()
	hostile = f"Web{frappe.generate_hash(length=6)}' onmouseover='alert(1)"
	frappe.db.set_value("Opportunity", opp.name, "lead_source", hostile, update_modified=False)
	ensure_records_for_stored_values()
	value = frappe.db.get_value("Opportunity", opp.name, "lead_source")
	assert value == safe_name(hostile) and frappe.db.exists("Lead Source", value)


def test_an_unknown_stage_is_named_as_text_in_the_error():
	from opportunity_suite.services.stages import StageError, apply_stage

	# as the importer checks a row's stage (before Frappe's link check)
	with pytest.raises(StageError) as refused:
		apply_stage(frappe._dict(sales_stage="<img src=x onerror=alert(1)>"))
	assert "<img" not in str(refused.value) and "&lt;img" in str(refused.value)
