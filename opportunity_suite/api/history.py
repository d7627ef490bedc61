"""The opportunity form's stage facts (services/history.py)."""

import frappe

from opportunity_suite.services import history


@frappe.whitelist(methods=["GET"])
@frappe.read_only()
def stage_facts(opportunity: str) -> dict:
	"""Days in the current stage, close-date pushes, amount change since creation of `opportunity`."""
	frappe.has_permission("Opportunity", "read", doc=opportunity, throw=True)
	return history.stage_facts(opportunity)
