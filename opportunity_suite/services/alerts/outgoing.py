"""Is there an outgoing e-mail account? Without one Frappe refuses every e-mail ("Please setup default
Email Account"): the Alert Rule form says so before a rule's e-mails fail."""

import frappe
from frappe import _

ACCOUNT_NAME = "Opportunity Suite Outgoing"


def has_outgoing_account() -> bool:
	"""A default outgoing Email Account, or the site config's `mail_server` (Frappe's two sources)."""
	return bool(
		frappe.db.exists("Email Account", {"enable_outgoing": 1, "default_outgoing": 1})
		or frappe.conf.get("mail_server")
	)


def has_email_action(rule) -> bool:
	return any(row.action_type == "Email" for row in rule.get("actions") or [])


def warn_if_no_outgoing_account(rule):
	"""At save: a rule with an e-mail action on a site that can't send e-mail gets a warning (not an error:
	the account may come later)."""
	if frappe.flags.in_install or frappe.flags.in_migrate or frappe.flags.in_patch:
		return  # the shipped example rule, made before any account can be
	if has_email_action(rule) and not has_outgoing_account():
		frappe.msgprint(
			no_account_message(), title=_("No outgoing email account"), indicator="orange", alert=False
		)


def no_account_message() -> str:
	return _(
		"This rule sends e-mail, but the site has no default outgoing Email Account: its e-mails will fail "
		"(its other actions still run). Add one in Email Account (enable Outgoing and Default Outgoing)."
	)
