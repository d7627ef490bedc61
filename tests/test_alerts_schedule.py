"""Scheduled rules: due periods in the system time zone, at most once per record per due period."""

import datetime

import frappe
from frappe.utils import add_days, get_datetime, now_datetime, today

from opportunity_suite.services.alerts import run_scheduled_rules
from opportunity_suite.services.alerts.schedule import due_period
from tests.alerts_fixtures import alert_logs, make_rule
from tests.factories import make_opportunity

D = datetime.datetime


def test_due_periods():
	now = D(2026, 3, 18, 10, 30)  # a Wednesday
	assert due_period({"schedule_frequency": "Hourly", "schedule_minute": 15}, now) == D(2026, 3, 18, 10, 15)
	assert due_period({"schedule_frequency": "Hourly", "schedule_minute": 45}, now) == D(2026, 3, 18, 9, 45)
	daily = {"schedule_frequency": "Daily", "schedule_time": "09:00:00"}
	assert due_period(daily, now) == D(2026, 3, 18, 9, 0)
	assert due_period({**daily, "schedule_time": datetime.timedelta(hours=11)}, now) == D(2026, 3, 17, 11, 0)
	weekly = {"schedule_frequency": "Weekly", "schedule_time": "08:00:00", "monday": 1, "friday": 1}
	assert due_period(weekly, now) == D(2026, 3, 16, 8, 0)
	assert due_period(weekly, D(2026, 3, 16, 7, 0)) == D(2026, 3, 13, 8, 0)
	assert due_period({"schedule_frequency": "Weekly", "schedule_time": "08:00:00"}, now) is None
	monthly = {"schedule_frequency": "Monthly", "schedule_time": "06:00:00", "schedule_day_of_month": 31}
	assert due_period(monthly, D(2026, 3, 18, 10, 0)) == D(2026, 2, 28, 6, 0)  # February's last day
	assert due_period(monthly, D(2026, 3, 31, 7, 0)) == D(2026, 3, 31, 6, 0)
	assert due_period({**monthly, "schedule_day_of_month": 1}, D(2026, 1, 1, 5, 0)) == D(2025, 12, 1, 6, 0)


def closing_soon_rule(**values):
	return make_rule(
		trigger="On Schedule",
		schedule_frequency="Daily",
		schedule_time="07:00:00",
		conditions=[("expected_close_date", "Within Next Days", "7"), ("status", "Not In", "Won, Lost")],
		**values,
	)


def test_scheduled_rule_fires_once_per_record_per_due_period():
	rule = closing_soon_rule()
	soon = make_opportunity(expected_close_date=add_days(today(), 3))
	later = make_opportunity(expected_close_date=add_days(today(), 30))
	won = make_opportunity(expected_close_date=add_days(today(), 2), sales_stage="Closed Won")
	assert alert_logs(rule.name) == []  # saving never fires a scheduled rule

	tomorrow_morning = get_datetime(add_days(today(), 1)).replace(hour=8)
	assert run_scheduled_rules(tomorrow_morning)[rule.name] >= 1
	fired = {log.reference_name for log in alert_logs(rule.name)}
	assert soon.name in fired
	assert later.name not in fired
	assert won.name not in fired
	[log] = alert_logs(rule.name, reference_name=soon.name)
	assert log.due_period == f"{add_days(today(), 1)} 07:00"

	# the same due period again (the scheduler ticks every few minutes): nothing new
	run_scheduled_rules(tomorrow_morning + datetime.timedelta(hours=5))
	assert len(alert_logs(rule.name, reference_name=soon.name)) == 1
	# a record that starts matching later in the period fires then, once
	later.expected_close_date = add_days(today(), 4)
	later.save()
	run_scheduled_rules(tomorrow_morning + datetime.timedelta(hours=6))
	run_scheduled_rules(tomorrow_morning + datetime.timedelta(hours=7))
	assert len(alert_logs(rule.name, reference_name=later.name)) == 1
	# next day's period: fires again
	run_scheduled_rules(tomorrow_morning + datetime.timedelta(days=1))
	assert len(alert_logs(rule.name, reference_name=soon.name)) == 2


def test_scheduled_rule_waits_for_its_first_due_time():
	rule = closing_soon_rule()
	make_opportunity(expected_close_date=add_days(today(), 3))
	# the latest due time before the rule existed doesn't count
	assert rule.name not in run_scheduled_rules(now_datetime())


def test_scheduler_hook_calls_the_entry_point():
	events = frappe.get_hooks("scheduler_events")
	assert any(
		"opportunity_suite.services.alerts.run_scheduled_rules" in methods
		for methods in events["cron"].values()
	)
