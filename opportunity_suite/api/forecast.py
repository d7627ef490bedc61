"""The forecast the form shows while a person types, from the admin's rule (services/forecast.py)."""

import frappe

from opportunity_suite.services import forecast


@frappe.whitelist(methods=["GET", "POST"])
@frappe.read_only()
def preview(values: str | dict | None = None) -> dict:
	"""The probability and forecast amount a save of the unsaved `values` (the form's fields) would give,
	and whether the forecast rule is on; reads nothing but the settings and the stage."""
	if not (frappe.has_permission("Opportunity", "create") or frappe.has_permission("Opportunity", "write")):
		frappe.throw(frappe._("Not permitted"), exc=frappe.PermissionError)
	values = frappe.parse_json(values) if values else {}
	if not isinstance(values, dict):
		frappe.throw(frappe._("Values must be an object."))
	return forecast.preview(values)
