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


@frappe.whitelist(methods=["POST"])
def update_order_for_single_card(
	board_name: str, docname: str, from_colname: str, to_colname: str, old_index: int, new_index: int
):
	"""A card dragged to another column (Frappe's method, overridden): Frappe's own checks (write
	permission on the DocType, the deal's save), tried again when the board was saved in between."""
	doctype = frappe.db.get_value("Kanban Board", board_name, "reference_doctype")
	if not doctype or not frappe.has_permission(doctype, "write"):  # Frappe's own check, first
		frappe.throw(frappe._("Not permitted"), exc=frappe.PermissionError)
	return kanban.move_card(board_name, docname, from_colname, to_colname, old_index, new_index)
