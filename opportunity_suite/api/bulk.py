"""Bulk actions on opportunities that Frappe's list view doesn't have."""

import frappe

from opportunity_suite.services.comments import add_comment_to_many


@frappe.whitelist(methods=["POST"])
def add_comment(names: list[str] | str, comment: str) -> dict:
	"""Add one comment to every selected opportunity the user may read (author: the session's user).

	`names` is a list, or its JSON text (the desk's frappe.call sends arrays as JSON).
	Answers {"added": n, "skipped": [{"name": ..., "reason": ...}]}."""
	frappe.has_permission("Opportunity", "read", throw=True)
	if isinstance(names, str):
		names = frappe.parse_json(names)
	if not isinstance(names, list):
		raise frappe.ValidationError("names must be a list of opportunity names")
	return add_comment_to_many(names, comment)
