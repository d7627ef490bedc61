"""Alerts on a site that can't send e-mail, and addresses written the way people write them: each action
succeeds or fails on its own, the rule's author is warned, and every address is checked like a user."""

import os

import frappe
import pytest

from opportunity_suite.services.alerts.outgoing import ACCOUNT_NAME
from tests.alerts_fixtures import alert_logs, clear_email_account_cache, make_rule, outbox_account, smtp_sink
from tests.factories import make_opportunity, make_user


@pytest.fixture
def no_outgoing_account():
	"""A fresh site's state: no default outgoing Email Account, e-mails not muted (rolled back after)."""
	frappe.db.set_value("Email Account", {"default_outgoing": 1}, "default_outgoing", 0)
	clear_email_account_cache()
	muted, conf_muted = frappe.flags.mute_emails, frappe.local.conf.get("mute_emails")
	frappe.flags.mute_emails = False
	frappe.local.conf.mute_emails = 0
	yield
	frappe.flags.mute_emails, frappe.local.conf.mute_emails = muted, conf_muted
	frappe.db.rollback()
	clear_email_account_cache()


@pytest.fixture
def outbox():
	yield from outbox_account()


def _hot_deal_rule():
	return make_rule(
		conditions=[("amount", "Greater Than", "10000")],
		actions=[
			{"action_type": "Email", "recipient_roles": "Sales Manager", "subject": "Hot {{ doc.name }}"},
			{
				"action_type": "Notification",
				"recipient_users": "Administrator",
				"subject": "Hot {{ doc.name }}",
			},
		],
	)


def test_without_an_outgoing_account_the_notification_still_arrives_and_the_email_failure_is_told(
	no_outgoing_account,
):
	make_user("Sales Manager")
	rule = _hot_deal_rule()
	frappe.local.message_log = []
	opportunity = make_opportunity(amount=15000)

	assert not frappe.local.message_log  # the user's save went through without a word
	notes = frappe.get_all("Notification Log", filters={"document_name": opportunity.name}, pluck="name")
	assert notes, "the in-app notification was rolled back with the failed e-mail"
	[fired] = alert_logs(rule.name, reference_name=opportunity.name)
	assert fired.notification_logs == notes[0] and not fired.email_queues
	[failed] = alert_logs(rule.name, outcome="Failed", reference_name=opportunity.name)
	assert "Action 1 (Email)" in failed.error and "Email Account" in failed.error
	assert frappe.get_all(
		"Error Log", filters={"reference_doctype": "Opportunity", "reference_name": opportunity.name}
	)
	assert frappe.db.get_value("Alert Rule", rule.name, "consecutive_failures") == 1


def test_the_rule_warns_its_author_when_an_email_action_has_no_outgoing_account(no_outgoing_account):
	from opportunity_suite.api.alerts import outgoing_email_status

	manager = make_user("Sales Manager")
	seller = make_user("Sales User")
	frappe.set_user(manager)
	frappe.local.message_log = []
	_hot_deal_rule()
	assert any("no default outgoing Email Account" in str(m) for m in frappe.local.message_log)
	frappe.local.message_log = []
	make_rule()  # a notification only: nothing to warn about
	assert not frappe.local.message_log
	status = outgoing_email_status()
	assert status["configured"] is False and "Email Account" in status["message"]

	frappe.set_user(seller)  # may not read Alert Rules
	with pytest.raises(frappe.PermissionError):
		outgoing_email_status()


def test_no_warning_with_an_outgoing_account(outbox):
	from opportunity_suite.api.alerts import outgoing_email_status

	frappe.set_user(make_user("Sales Manager"))
	frappe.local.message_log = []
	_hot_deal_rule()
	assert not frappe.local.message_log
	assert outgoing_email_status()["configured"] is True


def _queue_recipients(names: str) -> set[str]:
	names = [n for n in (names or "").split("\n") if n]
	return set(frappe.get_all("Email Queue Recipient", filters={"parent": ("in", names)}, pluck="recipient"))


def test_addresses_are_normalised_and_checked_like_any_address(outbox):
	outsider_role = frappe.get_doc(
		{"doctype": "Role", "role_name": "Outsider " + frappe.generate_hash(length=6)}
	)
	outsider_role.insert(ignore_permissions=True)
	outsider = make_user(outsider_role.name)  # can't read opportunities
	reader = make_user("Sales Manager")
	rule = make_rule(
		actions=[
			{
				"action_type": "Email",
				"recipient_addresses": f"{outsider}.\n{outsider.upper()};partner@Example.COM.\n{reader}.",
				"subject": "x",
				"message": "y",
			}
		]
	)
	opportunity = make_opportunity(amount=15000)
	[log] = alert_logs(rule.name, reference_name=opportunity.name)
	assert _queue_recipients(log.email_queues) == {reader, "partner@example.com"}

	with pytest.raises(frappe.ValidationError, match="not a valid email address"):
		make_rule(
			actions=[{"action_type": "Email", "recipient_addresses": "a@b.c;not an address", "subject": "x"}]
		)


def test_setup_configures_one_outgoing_account_from_the_environment_idempotently():
	from opportunity_suite.setup_site import configure_outgoing_email

	sink = smtp_sink()
	port, _mailbox = next(sink)
	defaults = frappe.get_all("Email Account", filters={"default_outgoing": 1}, pluck="name")
	env = {
		"OS_SMTP_HOST": "127.0.0.1",
		"OS_SMTP_PORT": str(port),
		"OS_SMTP_USER": "",
		"OS_SMTP_PASSWORD": "",
		"OS_MAIL_FROM": "crm@opportunity-suite.test",
	}
	saved = {key: os.environ.get(key) for key in env}
	os.environ.update(env)
	try:
		configure_outgoing_email()
		os.environ["OS_MAIL_FROM"] = "sales@opportunity-suite.test"
		configure_outgoing_email()  # again: the same account, brought up to date
		accounts = frappe.get_all(
			"Email Account",
			filters={"default_outgoing": 1, "enable_outgoing": 1},
			fields=["name", "email_id", "smtp_server", "smtp_port", "no_smtp_authentication"],
		)
		found = [
			(a.name, a.email_id, a.smtp_server, int(a.smtp_port), a.no_smtp_authentication) for a in accounts
		]
		assert found == [(ACCOUNT_NAME, "sales@opportunity-suite.test", "127.0.0.1", port, 1)]
	finally:
		for key, value in saved.items():
			if value is None:
				os.environ.pop(key, None)
			else:
				os.environ[key] = value
		frappe.db.rollback()
		if frappe.db.exists("Email Account", ACCOUNT_NAME):
			frappe.delete_doc("Email Account", ACCOUNT_NAME, force=True, ignore_permissions=True)
		for name in defaults:
			frappe.db.set_value("Email Account", name, "default_outgoing", 1)
		frappe.db.commit()
		clear_email_account_cache()
		sink.close()
