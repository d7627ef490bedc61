"""The stale-deal radar's snooze (services/stale.py)."""

import frappe

from opportunity_suite.services import stale


@frappe.whitelist(methods=["POST"])
def snooze(opportunity: str, until: str | None = None, reason: str | None = None) -> dict:
	"""Snooze `opportunity` until a day with a reason (not stale up to that day); no `until` wakes it."""
	frappe.has_permission("Opportunity", "write", doc=opportunity, throw=True)
	return stale.snooze(opportunity, until, reason)
