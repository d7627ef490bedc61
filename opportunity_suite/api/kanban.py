"""The Kanban board's column totals (services/kanban.py)."""

import frappe

from opportunity_suite.services import kanban


@frappe.whitelist(methods=["GET"])
@frappe.read_only()
def column_totals(filters: str | list | dict | None = None) -> dict:
	"""Count, total and weighted amount per stage of the opportunities the user sees under `filters`."""
	if not frappe.has_permission("Opportunity", "read"):
		frappe.throw(frappe._("Not permitted"), exc=frappe.PermissionError)
	filters = frappe.parse_json(filters) if filters else []
	if not isinstance(filters, list | dict):
		frappe.throw(frappe._("Filters must be a list or an object."))
	return kanban.column_totals(filters)
