"""Bulk actions on opportunities that Frappe's list view doesn't have, or can't do alone (a bulk edit into
a Lost stage)."""

import frappe
from frappe import _

from opportunity_suite.services.comments import add_comment_to_many
from opportunity_suite.services.mark_lost import mark_many_as_lost


@frappe.whitelist(methods=["POST"])
def add_comment(names: list[str] | str, comment: str) -> dict:
	"""Add one comment to every selected opportunity the user may read (author: the session's user).

	`names` is a list, or its JSON text (the desk's frappe.call sends arrays as JSON).
	Answers {"added": n, "skipped": [{"name": ..., "reason": ...}]}."""
	frappe.has_permission("Opportunity", "read", throw=True)
	return add_comment_to_many(_names(names), comment)


@frappe.whitelist(methods=["POST"])
def mark_as_lost(
	names: list[str] | str, sales_stage: str, loss_reason: str, lost_reason: str | None = None
) -> dict:
	"""Move every selected opportunity into the Lost stage `sales_stage` with the Loss Reason `loss_reason`
	and the detail `lost_reason`, each saved as the session's user (the list's bulk edit into a Lost stage).

	`names` is a list, or its JSON text. Answers {"saved": [names], "failed": [{"name": ..., "reason": ...}]}:
	a deal the user may not change, or that its validation refuses, is reported and the others saved."""
	frappe.has_permission("Opportunity", "write", throw=True)
	return mark_many_as_lost(_names(names), sales_stage, loss_reason, lost_reason)


def _names(names: list[str] | str) -> list[str]:
	"""The selected names: a list, or its JSON text (the desk's frappe.call sends arrays as JSON)."""
	if isinstance(names, str):
		try:
			names = frappe.parse_json(names)
		except ValueError:
			names = None
	if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
		frappe.throw(_("Pick the opportunities as a list of their names."), exc=frappe.ValidationError)
	return names
