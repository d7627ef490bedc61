"""Opportunity's Type and Lead Source, and Lead's Lead Source, were Select fields and are now Links to the
Opportunity Type and Lead Source records. Property Setters made for the Selects (an option list, a field
type) would bend the Links out of shape: their extra options become records, and they go. Then the shipped
values, and a record for every value stored (after_migrate checks that again on every migrate)."""

import frappe

from opportunity_suite.services.picklists import (
	add_value,
	ensure_default_values,
	ensure_records_for_stored_values,
)

FIELDS = {
	("Opportunity", "opportunity_type"): "Opportunity Type",
	("Opportunity", "lead_source"): "Lead Source",
	("Lead", "lead_source"): "Lead Source",
}


def execute():
	ensure_default_values()
	for (doctype, fieldname), picklist in FIELDS.items():
		filters = {"doc_type": doctype, "field_name": fieldname, "property": ("in", ("options", "fieldtype"))}
		for setter in frappe.get_all(
			"Property Setter", filters=filters, fields=["name", "property", "value"]
		):
			if setter.property == "options":
				for option in (setter.value or "").split("\n"):
					option = option.strip()
					if option and not frappe.db.exists(picklist, option):
						add_value(picklist, option)
			frappe.delete_doc("Property Setter", setter.name, ignore_permissions=True, force=True)
		frappe.clear_cache(doctype=doctype)
	ensure_records_for_stored_values()
