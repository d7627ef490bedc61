"""Counts for the opportunity form's related lists."""

import frappe

from opportunity_suite.services.related import related_counts, related_lists


@frappe.whitelist()
@frappe.read_only()
def get_related_counts(opportunity: str) -> dict[str, int]:
	"""Count of each related list of `opportunity`, as the session user may see them."""
	frappe.has_permission("Opportunity", "read", doc=opportunity, throw=True)
	return related_counts(opportunity)


@frappe.whitelist()
@frappe.read_only()
def get_related(opportunity: str) -> dict[str, dict]:
	"""The form's related lists: `counts` (as above) and `lists` (each list's DocType and filters)."""
	frappe.has_permission("Opportunity", "read", doc=opportunity, throw=True)
	doc = frappe.get_doc("Opportunity", opportunity)
	return {"counts": related_counts(opportunity, doc), "lists": related_lists(opportunity, doc)}
