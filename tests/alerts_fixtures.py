"""Helpers for the alert rule tests: rules, an outgoing email account, a real SMTP server on loopback."""

import socket
import subprocess
import sys

import frappe

from tests.factories import unique


def make_rule(conditions=(), actions=None, **values) -> "frappe.model.document.Document":
	"""An enabled Alert Rule on Opportunity (a Notification to Administrator unless `actions` is given)."""
	doc = frappe.get_doc(
		{
			"doctype": "Alert Rule",
			"rule_name": unique("Rule"),
			"document_type": "Opportunity",
			"enabled": 1,
			"trigger": "Every Save",
			"condition_match": "All",
			"conditions": [
				dict(zip(("fieldname", "operator", "value", "value2"), c, strict=False)) for c in conditions
			],
			"actions": actions
			if actions is not None
			else [
				{
					"action_type": "Notification",
					"recipient_users": "Administrator",
					"subject": "{{ doc.name }}",
				}
			],
			**values,
		}
	)
	return doc.insert()


def alert_logs(rule: str, outcome: str = "Fired", **filters) -> list:
	return frappe.get_all(
		"Alert Log",
		filters={"alert_rule": rule, "outcome": outcome, **filters},
		fields=["*"],
		order_by="creation asc",
	)


def clear_email_account_cache():
	for name in ("outgoing_email_account", "incoming_email_account"):
		if hasattr(frappe.local, name):
			delattr(frappe.local, name)


def make_email_account(port: int) -> str:
	"""The default outgoing account: SMTP on 127.0.0.1:port, no TLS, no login."""
	clear_email_account_cache()
	account = frappe.get_doc(
		{
			"doctype": "Email Account",
			"email_account_name": unique("Alerts Outbox"),
			"email_id": f"alerts-{frappe.generate_hash(length=6)}@opportunity-suite.test",
			"enable_outgoing": 1,
			"default_outgoing": 1,
			"smtp_server": "127.0.0.1",
			"smtp_port": port,
			"use_tls": 0,
			"use_ssl_for_outgoing": 0,
			"no_smtp_authentication": 1,
			"awaiting_password": 0,
		}
	).insert(ignore_permissions=True)
	return account.name


def outbox_account():
	"""An outgoing account (nothing listens: mail stays in the Email Queue), rolled back with the test.
	A generator for a fixture: `yield from outbox_account()`."""
	name = make_email_account(_free_port())
	yield name
	clear_email_account_cache()


def _free_port() -> int:
	with socket.socket() as s:
		s.bind(("127.0.0.1", 0))
		return s.getsockname()[1]


def _aiosmtpd():
	try:
		import aiosmtpd  # noqa: F401
	except ImportError:  # benches made before aiosmtpd joined the test extra
		subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "aiosmtpd>=1.4"], check=True)


class Mailbox:
	def __init__(self):
		self.messages = []

	async def handle_DATA(self, server, session, envelope):
		from email import message_from_bytes
		from email.policy import default

		self.messages.append(
			{
				"from": envelope.mail_from,
				"to": list(envelope.rcpt_tos),
				"message": message_from_bytes(envelope.original_content or envelope.content, policy=default),
			}
		)
		return "250 Message accepted for delivery"


def smtp_sink():
	"""A real SMTP server on loopback (aiosmtpd); yields (port, mailbox). A generator for a fixture."""
	_aiosmtpd()
	from aiosmtpd.controller import Controller

	mailbox = Mailbox()
	port = _free_port()
	controller = Controller(mailbox, hostname="127.0.0.1", port=port)
	controller.start()
	try:
		yield port, mailbox
	finally:
		controller.stop()
