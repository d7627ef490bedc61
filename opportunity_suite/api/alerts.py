"""What the Alert Rule form asks the server."""

import frappe

from opportunity_suite.services.alerts import outgoing


@frappe.whitelist()
@frappe.read_only()
def outgoing_email_status() -> dict:
	"""Whether the site can send the rules' e-mails, and what to do when it can't."""
	frappe.has_permission("Alert Rule", "read", throw=True)
	configured = outgoing.has_outgoing_account()
	return {"configured": configured, "message": "" if configured else outgoing.no_account_message()}
