"""The Alert Rule form in the desk (headless Chromium): the shipped example opens and offers the record's
fields for conditions; a sales manager sets up the hot-deal alert in the form, and the team hears of the
next big deal (bell and Email Queue)."""

import time

import frappe
import pytest
from frappe.utils import add_days, today
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from opportunity_suite.services.alerts.example import EXAMPLE_RULE
from tests.alerts_fixtures import alert_logs, clear_email_account_cache
from tests.browser_helpers import (
	close_table_row,
	create_opportunity_in_form,
	open_table_row,
	pick_in_form,
	screenshot,
)
from tests.factories import make_opportunity, unique
from tests.records_fixtures import delete_committed, delete_committed_users, make_committed_users


@pytest.mark.browser
def test_alert_rule_form_offers_the_records_fields(desk):
	errors = []
	desk.on("pageerror", lambda e: errors.append(str(e)))
	desk.goto(f"/app/alert-rule/{EXAMPLE_RULE}")
	desk.wait_for_function("() => window.cur_frm && cur_frm.doc && cur_frm.doc.name", timeout=30_000)
	desk.wait_for_function(
		"""() => {
			const df = cur_frm.fields_dict.conditions.grid.get_docfield("fieldname");
			return df && df.fieldtype === "Autocomplete" && (df.options || []).some((o) => o.value === "amount");
		}""",
		timeout=30_000,
	)
	assert desk.evaluate("cur_frm.doc.document_type") == "Opportunity"
	assert desk.evaluate("cur_frm.doc.conditions[0].fieldname") == "amount"
	assert "Amount over 10000" in desk.inner_text(".page-head")
	assert errors == []


@pytest.fixture
def no_outgoing_account():
	"""No default outgoing Email Account for the web server either (committed, put back afterwards)."""
	accounts = frappe.get_all("Email Account", filters={"default_outgoing": 1}, pluck="name")
	for name in accounts:
		frappe.db.set_value("Email Account", name, "default_outgoing", 0)
	frappe.db.commit()
	yield
	frappe.db.rollback()
	for name in accounts:
		frappe.db.set_value("Email Account", name, "default_outgoing", 1)
	frappe.db.commit()
	clear_email_account_cache()


@pytest.mark.browser
def test_the_form_warns_when_the_rule_emails_without_an_outgoing_account(desk, no_outgoing_account):
	desk.goto(f"/app/alert-rule/{EXAMPLE_RULE}")  # the example e-mails the Sales Managers
	desk.wait_for_function("() => window.cur_frm && cur_frm.doc && cur_frm.doc.name", timeout=30_000)
	warning = desk.locator(".form-message", has_text="no default outgoing Email Account")
	warning.first.wait_for(state="visible", timeout=30_000)


@pytest.fixture
def hot_deal_alert():
	"""A committed Sales Manager to be told; afterwards the rule the test saves (named in `made`), the
	opportunities it made, and what the alert sent are removed."""
	users = make_committed_users(manager="Sales Manager")
	made = frappe._dict(rule=unique("Hot deal for the team"), opportunities=[])
	yield users["manager"], made
	frappe.db.rollback()
	opportunities = made.opportunities + frappe.get_all(
		"Opportunity", {"opportunity_name": ("like", f"{made.rule}%")}, pluck="name"
	)
	if opportunities:
		frappe.db.delete("Notification Log", {"document_name": ("in", opportunities)})
		queued = frappe.get_all("Email Queue", {"reference_name": ("in", opportunities)}, pluck="name")
		if queued:
			frappe.db.delete("Email Queue Recipient", {"parent": ("in", queued)})
			frappe.db.delete("Email Queue", {"name": ("in", queued)})
		frappe.db.delete("ToDo", {"reference_name": ("in", opportunities)})
	frappe.db.delete("Alert Log", {"alert_rule": made.rule})
	delete_committed("Opportunity", set(opportunities))
	delete_committed("Alert Rule", [made.rule])
	frappe.db.commit()
	delete_committed_users(users)


def _fired_with_email(rule: str, name: str, seconds: float = 180) -> list:
	deadline = time.monotonic() + seconds
	while True:
		frappe.db.rollback()
		logs = alert_logs(rule, reference_name=name)
		if (logs and logs[0].email_queues) or time.monotonic() > deadline:
			return logs
		time.sleep(1)


@pytest.mark.browser
def test_set_up_the_hot_deal_alert_in_its_form(desk, hot_deal_alert, worker):
	"""Tell the team whenever a deal over 10,000 is first saved: a bell notification to the manager (and
	to me, watching) and an email to the Sales Managers."""
	manager, made = hot_deal_alert
	subject = "Hot deal: {{ doc.opportunity_name }} ({{ doc.amount|money(doc.currency) }})"
	desk.goto("/app/alert-rule/new")
	form = desk.locator(".form-layout")
	form.locator("input[data-fieldname='rule_name']").fill(made.rule)
	pick_in_form(form, "document_type", "Opportunity")
	form.locator("input[data-fieldname='enabled']").check()
	form.locator("select[data-fieldname='trigger']").select_option("On First Save")

	# the form offers the opportunity's fields for conditions once it has read its meta
	desk.wait_for_function(
		"""() => {
			const df = cur_frm.fields_dict.conditions.grid.get_docfield("fieldname");
			return df && df.fieldtype === "Autocomplete" && (df.options || []).some((o) => o.value === "amount");
		}"""
	)
	row = open_table_row(desk, "conditions", add=True)
	# as a person looks that the row took each value before the next (a slow desk may drop a pick)
	took = "(cur_frm.doc.conditions || [])[0] || {}"
	steps = (
		(lambda: pick_in_form(row, "fieldname", "Amount"), f"() => ({took}).fieldname === 'amount'"),
		(
			lambda: row.locator("select[data-fieldname='operator']").select_option("Greater Than"),
			f"() => ({took}).operator === 'Greater Than'",
		),
		(
			lambda: (
				row.locator("input[data-fieldname='value']").fill("10000"),
				row.locator("input[data-fieldname='value']").press("Tab"),
			),
			f"() => String(({took}).value) === '10000'",
		),
	)
	for act, taken in steps:
		for _attempt in range(3):
			act()
			try:
				desk.wait_for_function(taken, timeout=10_000)
				break
			except PlaywrightTimeoutError:
				continue
		else:
			row_now = desk.evaluate(f"JSON.stringify({took})")
			raise AssertionError(f"the condition row did not take amount > 10000: {row_now}")
	close_table_row(desk)

	row = open_table_row(desk, "actions", idx=1)  # the table's first row is there already
	row.locator("select[data-fieldname='action_type']").select_option("Notification")
	row.locator("textarea[data-fieldname='recipient_users']").fill(f"{manager}\nAdministrator")
	row.locator("input[data-fieldname='subject']").fill(subject)
	close_table_row(desk)
	row = open_table_row(desk, "actions", add=True)
	row.locator("select[data-fieldname='action_type']").select_option("Email")
	row.locator("textarea[data-fieldname='recipient_roles']").fill("Sales Manager")
	row.locator("input[data-fieldname='subject']").fill(subject)
	close_table_row(desk)
	desk.keyboard.press("Control+s")
	desk.locator(".page-head .indicator-pill", has_text="Enabled").wait_for()
	assert desk.evaluate("cur_frm.doc.__unsaved") in (None, 0)
	screenshot(desk, "alert_rule_hot_deal")

	frappe.db.rollback()
	rule = frappe.get_doc("Alert Rule", made.rule)
	assert (rule.document_type, rule.enabled, rule.trigger) == ("Opportunity", 1, "On First Save")
	assert [(c.fieldname, c.operator, c.value) for c in rule.conditions] == [
		("amount", "Greater Than", "10000")
	]
	assert [a.action_type for a in rule.actions] == ["Notification", "Email"]

	# a small deal saved through the API says nothing; a big one saved in the desk tells the team
	small = make_opportunity(opportunity_name=f"{made.rule} small", amount=9000)
	frappe.db.commit()
	made.opportunities.append(small.name)
	big_name = f"{made.rule} big"
	create_opportunity_in_form(desk, big_name, 25000, "Qualification", add_days(today(), 20))
	frappe.db.rollback()
	big = frappe.get_doc("Opportunity", {"opportunity_name": big_name})
	made.opportunities.append(big.name)

	# the bell rings for me, watching: the notification is there
	desk.locator(".dropdown-notifications .notifications-unseen").wait_for()
	desk.locator(".dropdown-notifications .notifications-icon").click()
	item = desk.locator(".notifications-list .notification-item", has_text=big_name)
	item.first.wait_for()
	assert "25,000.00" in item.first.inner_text()
	screenshot(desk, "alert_rule_hot_deal_bell")

	[log] = _fired_with_email(made.rule, big.name)  # the e-mail is rendered and queued by the worker
	assert alert_logs(made.rule, reference_name=small.name) == []
	notified = frappe.get_all(
		"Notification Log", {"document_name": big.name, "type": "Alert"}, ["for_user", "subject"]
	)
	assert {n.for_user for n in notified} == {manager, "Administrator"}
	assert all(big_name in n.subject and "25,000.00" in n.subject for n in notified)
	assert log.email_queues, f"no e-mail queued; failures: {alert_logs(made.rule, outcome='Failed')}"
	assert set(log.email_queues.split("\n")) <= set(
		frappe.get_all("Email Queue", {"reference_name": big.name}, pluck="name")
	)
	recipients = frappe.get_all(
		"Email Queue Recipient", {"parent": ("in", log.email_queues.split("\n"))}, pluck="recipient"
	)
	assert manager in recipients  # the manager's address is the user's name here
	assert frappe.get_all("Notification Log", {"document_name": small.name, "type": "Alert"}) == []
