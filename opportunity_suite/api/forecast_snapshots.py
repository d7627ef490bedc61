"""Take a Forecast Snapshot now (services/forecast_snapshots.py): for who may create snapshots."""

import frappe
from frappe import _

from opportunity_suite.services import forecast_snapshots


@frappe.whitelist(methods=["POST"])
def take_snapshot() -> str:
	"""Freeze today's pipeline; the new snapshot's name."""
	if not frappe.has_permission("Forecast Snapshot", "create"):
		frappe.throw(_("Not permitted to take forecast snapshots."), exc=frappe.PermissionError)
	return forecast_snapshots.take_snapshot("On Demand")
