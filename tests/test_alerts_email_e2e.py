"""The shipped hot-deal rule end to end: save → Email Queue → sent → a real SMTP server on loopback.

Flushing the Email Queue commits (Frappe marks each mail as sent in its own commit), so this test commits
and removes everything it made afterwards."""

import frappe
import pytest
from frappe.utils import fmt_money

from opportunity_suite.services.alerts.example import EXAMPLE_RULE
from tests.alerts_fixtures import alert_logs, clear_email_account_cache, make_email_account, smtp_sink
from tests.factories import make_opportunity, make_user


@pytest.fixture
def smtp_server():
	yield from smtp_sink()


@pytest.fixture
def hot_deal_setup(smtp_server):
	port, mailbox = smtp_server
	made = {"Opportunity": [], "User": [], "Email Account": []}
	assert frappe.db.exists("Alert Rule", EXAMPLE_RULE), "the example rule ships with the app"
	assert frappe.db.get_value("Alert Rule", EXAMPLE_RULE, "enabled") == 0, "shipped disabled"
	made["Email Account"].append(make_email_account(port))
	manager = make_user("Sales Manager")
	outsider = make_user("Sales User")
	made["User"] += [manager, outsider]
	rule = frappe.get_doc("Alert Rule", EXAMPLE_RULE)
	rule.enabled = 1
	rule.save()
	frappe.flags.testing_email = True
	frappe.flags.mute_emails = False
	try:
		yield mailbox, manager, outsider, made
	finally:
		frappe.flags.testing_email = False
		frappe.db.rollback()
		_cleanup(made)


def _cleanup(made):
	rule = frappe.get_doc("Alert Rule", EXAMPLE_RULE)
	if rule.enabled or rule.consecutive_failures:
		rule.enabled = 0
		rule.save()
	for name in made["Opportunity"]:
		for log in frappe.get_all("Alert Log", filters={"reference_name": name}, pluck="name"):
			frappe.delete_doc("Alert Log", log, force=True)
		for queue in frappe.get_all("Email Queue", filters={"reference_name": name}, pluck="name"):
			frappe.delete_doc("Email Queue", queue, force=True)
		frappe.delete_doc("Opportunity", name, force=True)
	for name in made["Email Account"]:
		frappe.delete_doc("Email Account", name, force=True)
	for name in made["User"]:
		frappe.delete_doc("User", name, force=True)
	frappe.db.commit()
	clear_email_account_cache()


def test_hot_deal_reaches_the_sales_managers_through_a_real_smtp_server(hot_deal_setup):
	mailbox, manager, outsider, made = hot_deal_setup
	name = "Acme <img src=x onerror=alert(1)> & Sons"
	big = make_opportunity(opportunity_name=name, amount=15000)
	small = make_opportunity(amount=5000)
	made["Opportunity"] += [big.name, small.name]
	frappe.db.commit()

	[log] = alert_logs(EXAMPLE_RULE, reference_name=big.name)
	assert alert_logs(EXAMPLE_RULE, reference_name=small.name) == []
	queued = log.email_queues.split("\n")
	assert frappe.get_all("Email Queue", filters={"reference_name": small.name}) == []

	# what Frappe's scheduled `flush` does for each queued mail, for this test's mails only (a whole-queue
	# flush would also try whatever other runs left queued, and abort on their failures)
	for queue in queued:
		frappe.get_doc("Email Queue", queue).send()

	assert {frappe.db.get_value("Email Queue", q, "status") for q in queued} == {"Sent"}
	to_big = [m for m in mailbox.messages if big.name in m["message"].get_body(("html",)).get_content()]
	recipients = {address for m in to_big for address in m["to"]}
	managers = set(
		frappe.get_all(
			"Has Role", filters={"role": "Sales Manager", "parenttype": "User"}, pluck="parent", distinct=True
		)
	)
	assert manager in recipients
	assert outsider not in recipients
	assert recipients <= {frappe.db.get_value("User", u, "email") for u in managers}
	message = next(m["message"] for m in to_big if manager in m["to"])
	amount = fmt_money(15000, currency=big.currency)
	subject = str(message["Subject"]).strip()
	assert subject.startswith("Hot deal: Acme <img src=")  # a mail header is text: the name as typed
	assert subject.endswith(f"({amount})")
	html = message.get_body(("html",)).get_content()
	assert amount in html
	assert "&lt;img" in html  # the name arrives as text, escaped
	assert "<img src" not in html
	# nothing for the small deal
	assert not [m for m in mailbox.messages if small.name in m["message"].as_string()]
