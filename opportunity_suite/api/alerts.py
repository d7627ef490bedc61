"""What the Alert Rule form asks the server."""

import frappe
from frappe import _

from opportunity_suite.services.alerts import fields, outgoing


@frappe.whitelist()
@frappe.read_only()
def outgoing_email_status() -> dict:
	"""Whether the site can send the rules' e-mails, and what to do when it can't."""
	frappe.has_permission("Alert Rule", "read", throw=True)
	configured = outgoing.has_outgoing_account()
	return {"configured": configured, "message": "" if configured else outgoing.no_account_message()}


@frappe.whitelist(methods=["GET", "POST"])
@frappe.read_only()
def search_watchable_doctypes(
	doctype: str, txt: str, searchfield: str, start: int, page_len: int, filters: dict | None = None
) -> list[tuple[str, str]]:
	"""The Alert Rule form's Document Type suggestions: the app's records a rule may watch, by their
	translated name (a Link field's search query: Frappe's search_link calls it)."""
	frappe.has_permission("Alert Rule", "read", throw=True)
	text = (txt or "").strip().lower()
	found = [
		(name, _(name))
		for name in fields.allowed_doctypes()
		if text in name.lower() or text in _(name).lower()
	]
	start, page_len = int(start or 0), int(page_len or 20)
	return found[start : start + page_len]
