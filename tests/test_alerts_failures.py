"""A broken rule never blocks a save: Alert Log + Error Log, switched off after 3 failures in a row."""

import frappe
import pytest
from frappe.utils import now_datetime

from opportunity_suite.services.alerts import clear_rules_cache
from tests.alerts_fixtures import alert_logs, make_rule
from tests.factories import make_opportunity, make_user


@pytest.fixture(autouse=True)
def _remove_error_logs():
	"""Frappe keeps Error Log in a MyISAM table, so it outlives the test's rollback: remove ours."""
	start = now_datetime()
	yield
	frappe.db.delete("Error Log", {"method": ("like", "Alert Rule % failed"), "creation": (">=", start)})


def break_rule_template(rule):
	"""A field the template uses disappears after the rule was saved (written past validation)."""
	row = rule.actions[-1]
	frappe.db.set_value("Alert Rule Action", row.name, "subject", "{{ doc.field_deleted_later }}")
	clear_rules_cache()


def test_broken_rule_does_not_block_the_save_and_is_logged():
	rule = make_rule(
		actions=[
			{"action_type": "Notification", "recipient_users": "Administrator", "subject": "first"},
			{"action_type": "Notification", "recipient_users": "Administrator", "subject": "second"},
		]
	)
	break_rule_template(rule)
	frappe.local.message_log = []
	opportunity = make_opportunity(amount=15000)  # saves fine
	assert frappe.db.exists("Opportunity", opportunity.name)
	assert not frappe.local.message_log  # the user sees no error
	[failure] = alert_logs(rule.name, outcome="Failed", reference_name=opportunity.name)
	assert "field_deleted_later" in failure.error
	assert frappe.get_all(
		"Error Log", filters={"reference_doctype": "Opportunity", "reference_name": opportunity.name}
	)
	# each action succeeds or fails on its own: the first notification went out, the broken second didn't
	notes = frappe.get_all("Notification Log", filters={"document_name": opportunity.name}, pluck="subject")
	assert notes == ["first"]
	assert "Action 2 (Notification)" in failure.error
	assert frappe.db.get_value("Alert Rule", rule.name, "consecutive_failures") == 1


def test_unknown_operator_at_run_time_fails_the_rule_not_the_save():
	rule = make_rule(conditions=[("amount", "Greater Than", "1")])
	frappe.db.set_value("Alert Rule Condition", rule.conditions[0].name, "operator", "Roughly")
	clear_rules_cache()
	opportunity = make_opportunity(amount=15000)
	[failure] = alert_logs(rule.name, outcome="Failed", reference_name=opportunity.name)
	assert "Unknown operator" in failure.error
	assert alert_logs(rule.name, reference_name=opportunity.name) == []


def test_three_failures_in_a_row_switch_the_rule_off_and_tell_its_owner():
	author = make_user("Sales Manager")
	frappe.set_user(author)
	rule = make_rule()
	frappe.set_user("Administrator")
	assert rule.owner == author
	break_rule_template(rule)
	opportunity = make_opportunity()
	opportunity.save()
	assert frappe.db.get_value("Alert Rule", rule.name, "enabled") == 1
	opportunity.save()
	assert frappe.db.get_value("Alert Rule", rule.name, ["enabled", "consecutive_failures"]) == (0, 3)
	notice = frappe.get_all(
		"Notification Log",
		filters={"for_user": author, "document_type": "Alert Rule", "document_name": rule.name},
		fields=["subject"],
	)
	assert notice and "switched off" in notice[0].subject
	opportunity.save()  # switched off: no more attempts
	assert len(alert_logs(rule.name, outcome="Failed")) == 3


def test_a_success_resets_the_failure_streak_and_re_enabling_starts_afresh():
	rule = make_rule(conditions=[("amount", "Greater Than", "100")])
	frappe.db.set_value("Alert Rule", rule.name, "consecutive_failures", 2)
	clear_rules_cache()
	make_opportunity(amount=500)
	assert frappe.db.get_value("Alert Rule", rule.name, "consecutive_failures") == 0
	frappe.db.set_value("Alert Rule", rule.name, {"enabled": 0, "consecutive_failures": 3})
	rule.reload()
	rule.enabled = 1
	rule.save()
	assert rule.consecutive_failures == 0


def test_template_written_past_validation_is_refused_at_run_time():
	rule = make_rule()
	frappe.db.set_value(
		"Alert Rule Action", rule.actions[0].name, "subject", "{{ frappe.db.sql('select 1') }}"
	)
	clear_rules_cache()
	opportunity = make_opportunity()
	[failure] = alert_logs(rule.name, outcome="Failed", reference_name=opportunity.name)
	assert "refused" in failure.error
	assert not frappe.get_all("Notification Log", filters={"document_name": opportunity.name})
