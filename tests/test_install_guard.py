"""The app refuses a site where another app owns one of its DocType names (ERPNext's Opportunity...)."""

import frappe
import pytest

from opportunity_suite.install import DocTypeNameClash, app_doctype_names, assert_no_doctype_clashes


def test_the_app_ships_its_doctypes_and_owns_them_here():
	names = app_doctype_names()
	assert {"Opportunity", "Opportunity Stage", "Opportunity Settings"} <= set(names)
	assert_no_doctype_clashes()  # every name is owned by our own module on the test site


def test_a_throwaway_doctype_of_another_module_is_named_in_the_refusal():
	probe = frappe.get_doc(
		{
			"doctype": "DocType",
			"name": "Opportunity Probe " + frappe.generate_hash(length=6),
			"module": "Custom",
			"custom": 1,
			"fields": [{"fieldname": "title", "fieldtype": "Data", "label": "Title"}],
			"permissions": [{"role": "System Manager", "read": 1}],
		}
	).insert()
	try:
		with pytest.raises(DocTypeNameClash) as error:
			assert_no_doctype_clashes([*app_doctype_names(), probe.name])
		assert probe.name in str(error.value) and "module Custom" in str(error.value)
	finally:
		frappe.db.rollback()
		frappe.delete_doc("DocType", probe.name, force=True, ignore_missing=True)
		frappe.db.commit()


def test_install_app_is_refused_before_anything_is_synced():
	"""install_app itself, through the before_install hook: our Opportunity is made to belong to another
	app (as ERPNext's would) in this transaction, then the install must stop before any sync."""
	from frappe.installer import install_app

	frappe.db.set_value("DocType", "Opportunity", "module", "Core", update_modified=False)
	frappe.clear_cache(doctype="Opportunity")
	fields_before = frappe.db.count("DocField", {"parent": "Opportunity"})
	modules_before = frappe.db.count("Module Def")
	with pytest.raises(DocTypeNameClash) as error:
		install_app("opportunity_suite", force=True)
	assert "Opportunity (module Core, app frappe)" in str(error.value)
	assert frappe.db.count("DocField", {"parent": "Opportunity"}) == fields_before
	assert frappe.db.count("Module Def") == modules_before
	assert frappe.db.get_value("DocType", "Opportunity", "module") == "Core"  # nothing re-synced it
	frappe.flags.in_install = False
	frappe.db.rollback()
	frappe.clear_cache(doctype="Opportunity")
	assert frappe.db.get_value("DocType", "Opportunity", "module") == "Opportunity Suite"
