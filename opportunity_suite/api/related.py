"""Counts for the opportunity form's related lists."""

import frappe

from opportunity_suite.services.related import related_counts


@frappe.whitelist()
@frappe.read_only()
def get_related_counts(opportunity: str) -> dict[str, int]:
	"""Count of each related list of `opportunity`, as the session user may see them."""
	frappe.has_permission("Opportunity", "read", doc=opportunity, throw=True)
	return related_counts(opportunity)
