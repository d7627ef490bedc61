"""The stale-deal radar: the stored flag, kept by saves, to-dos, events, stage thresholds, imports and the
daily job; snooze; the list filter, the number card and the shipped alert rule preset."""

import datetime

import frappe
import pytest
from frappe.utils import add_days, now_datetime, today

from opportunity_suite.api.stale import snooze
from opportunity_suite.services import stale
from opportunity_suite.services.stale import SnoozeError
from tests.factories import make_opportunity, make_user, set_forecast_settings, unique
from tests.test_stage_history import entered_days_ago


def flag(name: str) -> tuple[int, str | None]:
	row = frappe.db.get_value("Opportunity", name, ["is_stale", "stale_reason"], as_dict=True)
	return row.is_stale, row.stale_reason


def todo_for(name: str, date, status: str = "Open"):
	return frappe.get_doc(
		{
			"doctype": "ToDo",
			"description": "call",
			"reference_type": "Opportunity",
			"reference_name": name,
			"date": date,
			"status": status,
		}
	).insert()


@pytest.fixture
def stage():
	"""A stage of its own: stale after 5 days."""
	return frappe.get_doc(
		{
			"doctype": "Opportunity Stage",
			"stage_name": unique("Radar"),
			"sequence": 35,
			"default_probability": 30,
			"stage_type": "Open",
			"stale_after_days": 5,
		}
	).insert()


def test_a_new_deal_without_upcoming_activity_is_stale_and_a_todo_ahead_clears_it():
	opp = make_opportunity()
	assert opp.is_stale == 1 and opp.stale_reason == "No upcoming to-do or event"  # the save's response
	assert flag(opp.name) == (1, "No upcoming to-do or event")
	todo = todo_for(opp.name, add_days(today(), 3))
	assert flag(opp.name) == (0, None)
	todo.status = "Closed"
	todo.save()
	assert flag(opp.name)[0] == 1
	todo_for(opp.name, add_days(today(), -1))  # due yesterday: not ahead
	assert flag(opp.name)[0] == 1


def test_an_event_ahead_counts_as_activity():
	opp = make_opportunity()
	event = frappe.get_doc(
		{
			"doctype": "Event",
			"subject": "demo",
			"starts_on": now_datetime() + datetime.timedelta(days=2),
			"event_participants": [{"reference_doctype": "Opportunity", "reference_docname": opp.name}],
		}
	).insert()
	assert flag(opp.name) == (0, None)
	frappe.delete_doc("Event", event.name)
	assert flag(opp.name)[0] == 1


def test_time_in_stage_over_the_threshold_and_a_passed_close_date(stage):
	opp = make_opportunity(sales_stage=stage.name)
	todo_for(opp.name, add_days(today(), 3))
	assert flag(opp.name) == (0, None)
	entered_days_ago(opp.name, 6)
	stale.refresh_stale([opp.name])
	assert flag(opp.name) == (1, "In its stage over 5 days")
	frappe.db.set_value("Opportunity", opp.name, "expected_close_date", add_days(today(), -1))
	stale.refresh_stale([opp.name])
	assert flag(opp.name) == (1, "In its stage over 5 days; Expected close date has passed")
	opp.reload()
	opp.sales_stage = "Prospecting"  # a stage with no threshold; the close date moved out
	opp.expected_close_date = add_days(today(), 30)
	opp.save()
	assert (opp.is_stale, flag(opp.name)) == (0, (0, None))


def test_closed_deals_are_never_stale():
	opp = make_opportunity()
	assert flag(opp.name)[0] == 1
	opp.sales_stage = "Closed Won"
	opp.save()
	assert flag(opp.name) == (0, None)


def test_the_daily_job_flags_what_time_made_stale(stage):
	opp = make_opportunity(sales_stage=stage.name)
	todo_for(opp.name, add_days(today(), 3))
	entered_days_ago(opp.name, 10)  # time passed, no save
	assert flag(opp.name) == (0, None)
	stale.refresh_all_stale()  # commits per chunk, as a scheduled job
	try:
		assert flag(opp.name) == (1, "In its stage over 5 days")
	finally:
		frappe.db.delete("Opportunity Stage History", {"opportunity": opp.name})
		frappe.db.delete("ToDo", {"reference_name": opp.name})
		frappe.db.delete("Opportunity", {"name": opp.name})
		frappe.delete_doc("Opportunity Stage", stage.name, force=True)
		frappe.db.commit()


def test_changing_a_stage_threshold_queues_the_refresh(stage):
	from frappe.utils.background_jobs import get_job

	stage.stale_after_days = 9
	stage.save()
	frappe.db.commit()  # the job is queued after the commit
	try:
		job = get_job("opportunity_suite:refresh_all_stale")
		assert job is not None and job.get_status() in ("queued", "started", "finished")
		job.delete()  # no later test's worker runs it
	finally:
		frappe.delete_doc("Opportunity Stage", stage.name, force=True)
		frappe.db.commit()


def test_snooze_needs_a_reason_and_a_day_ahead_and_hides_the_flag():
	opp = make_opportunity()
	with pytest.raises(SnoozeError):
		snooze(opp.name, add_days(today(), 3), "")
	with pytest.raises(SnoozeError):
		snooze(opp.name, add_days(today(), -1), "later")
	result = snooze(opp.name, add_days(today(), 3), "customer on holiday")
	assert result["is_stale"] == 0 and flag(opp.name) == (0, None)
	opp.reload()
	assert opp.snooze_reason == "customer on holiday"
	frappe.db.set_value("Opportunity", opp.name, "snoozed_until", add_days(today(), -1))
	stale.refresh_stale([opp.name])  # the snooze ran out
	assert flag(opp.name)[0] == 1
	assert snooze(opp.name, None, None)["is_stale"] == 1  # woken by hand
	assert frappe.db.get_value("Opportunity", opp.name, "snooze_reason") is None


def test_snooze_allowed_with_write_and_denied_without():
	seller = make_user("Sales User")
	outsider = make_user()
	opp = make_opportunity()
	frappe.set_user(outsider)
	with pytest.raises(frappe.PermissionError):
		snooze(opp.name, add_days(today(), 3), "no")
	frappe.set_user(seller)
	assert snooze(opp.name, add_days(today(), 3), "on holiday")["is_stale"] == 0


def test_snooze_is_post_only_and_stage_facts_get_only():
	from opportunity_suite.api.history import stage_facts

	assert frappe.allowed_http_methods_for_whitelisted_func[snooze] == ["POST"]
	assert frappe.allowed_http_methods_for_whitelisted_func[stage_facts] == ["GET"]


def test_the_stale_filter_follows_record_visibility():
	owner = make_user("Sales User")
	other = make_user("Sales User")
	frappe.set_user(owner)
	opp = make_opportunity()
	frappe.set_user("Administrator")
	set_forecast_settings(visibility="Owner, Assignees and Their Managers")
	frappe.set_user(owner)
	assert opp.name in frappe.get_list("Opportunity", filters={"is_stale": 1}, pluck="name", limit=0)
	frappe.set_user(other)
	assert opp.name not in frappe.get_list("Opportunity", filters={"is_stale": 1}, pluck="name", limit=0)


def test_is_stale_is_an_indexed_standard_filter():
	field = frappe.get_meta("Opportunity").get_field("is_stale")
	assert (field.in_standard_filter, field.read_only) == (1, 1)
	# led by the flag: the (is_stale, modified) index of services/indexes.py
	indexes = frappe.db.sql(
		"SHOW INDEX FROM `tabOpportunity` WHERE Column_name = 'is_stale' AND Seq_in_index = 1"
	)
	assert indexes


def test_the_number_card_counts_stale_open_deals():
	from frappe.desk.doctype.number_card.number_card import get_result

	card = frappe.get_doc("Number Card", "Stale Deals")
	before = get_result(card.as_dict(), card.filters_json)
	make_opportunity()
	opp = make_opportunity()
	todo_for(opp.name, add_days(today(), 2))
	assert get_result(card.as_dict(), card.filters_json) == before + 1


def test_the_alert_rule_preset_ships_disabled():
	rule = frappe.get_doc("Alert Rule", stale.STALE_RULE)
	assert (rule.enabled, rule.trigger, rule.schedule_frequency, rule.monday) == (
		0,
		"On Schedule",
		"Weekly",
		1,
	)
	assert {(c.fieldname, c.value) for c in rule.conditions} == {("is_stale", "1"), ("status", "Open")}
	assert rule.actions[0].recipient_fields == "assigned_to"
	stale.ensure_stale_rule()  # idempotent
	assert frappe.db.count("Alert Rule", {"rule_name": stale.STALE_RULE}) == 1


def test_the_preset_when_enabled_emails_each_stale_deals_assignee():
	from opportunity_suite.services.alerts.schedule import run_scheduled_rules

	seller = make_user("Sales User")
	stale_deal = make_opportunity(assigned_to=seller)
	fresh = make_opportunity(assigned_to=seller)
	todo_for(fresh.name, add_days(today(), 2))
	rule = frappe.get_doc("Alert Rule", stale.STALE_RULE)
	rule.enabled = 1
	rule.save()
	monday = now_datetime().replace(hour=9, minute=0, second=0, microsecond=0)
	monday += datetime.timedelta(days=7 - monday.weekday())  # next Monday, 09:00: after the rule was made
	run_scheduled_rules(now=monday)
	logs = frappe.get_all(
		"Alert Log", filters={"alert_rule": rule.name, "outcome": "Fired"}, pluck="reference_name", limit=0
	)
	assert stale_deal.name in logs and fresh.name not in logs
	queued = frappe.get_all(
		"Email Queue Recipient",
		filters={"recipient": seller},
		fields=["parent"],
		limit=0,
	)
	assert queued
