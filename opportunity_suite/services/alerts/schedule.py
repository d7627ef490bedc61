"""Scheduled alert rules: hourly, daily at a time, weekly on chosen days, monthly on a date — in the
system's time zone. Each run evaluates the rule over the records and fires at most once per record per due
period (the Alert Log's `due_period` remembers it). The scheduler calls `run_scheduled_rules` every few
minutes (hooks.py); tests call it directly with a chosen `now`."""

import calendar
import datetime

import frappe
from frappe.utils import cint, get_datetime, get_time, now_datetime

from opportunity_suite.services.alerts import conditions as cond
from opportunity_suite.services.alerts.dispatcher import FIRED, record_failure, run_rule
from opportunity_suite.services.alerts.rules import WEEKDAYS, load_rules

BATCH_SIZE = 500


def _at(day: datetime.date, time: datetime.time) -> datetime.datetime:
	return datetime.datetime.combine(day, time)


def _clamped(year: int, month: int, day: int) -> datetime.date:
	return datetime.date(year, month, min(day, calendar.monthrange(year, month)[1]))


def due_period(rule: dict, now: datetime.datetime) -> datetime.datetime | None:
	"""The latest due time at or before `now` (system time zone, naive), or None."""
	frequency = rule.get("schedule_frequency")
	if frequency == "Hourly":
		due = now.replace(minute=cint(rule.get("schedule_minute")) % 60, second=0, microsecond=0)
		return due if due <= now else due - datetime.timedelta(hours=1)
	at = get_time(rule.get("schedule_time") or "00:00:00").replace(microsecond=0)
	if frequency == "Daily":
		due = _at(now.date(), at)
		return due if due <= now else due - datetime.timedelta(days=1)
	if frequency == "Weekly":
		days = {i for i, day in enumerate(WEEKDAYS) if cint(rule.get(day))}
		for back in range(8):
			day = now.date() - datetime.timedelta(days=back)
			if day.weekday() in days and _at(day, at) <= now:
				return _at(day, at)
		return None
	if frequency == "Monthly":
		day_of_month = cint(rule.get("schedule_day_of_month")) or 1
		due = _at(_clamped(now.year, now.month, day_of_month), at)
		if due > now:
			year, month = (now.year, now.month - 1) if now.month > 1 else (now.year - 1, 12)
			due = _at(_clamped(year, month, day_of_month), at)
		return due
	return None


def period_key(due: datetime.datetime) -> str:
	return due.strftime("%Y-%m-%d %H:%M")


def run_scheduled_rules(now: datetime.datetime | None = None) -> dict[str, int]:
	"""The scheduler's entry point: every enabled scheduled rule whose due period started after the rule was
	made runs over its records. Returns {rule: records fired}."""
	now = get_datetime(now) if now else now_datetime()
	fired = {}
	for rule in load_rules(scheduled=True):
		due = due_period(rule, now)
		if due is None or due < get_datetime(rule["creation"]).replace(second=0, microsecond=0):
			continue
		fired[rule["name"]] = run_scheduled_rule(rule, period_key(due))
	return fired


def _already_fired(rule: str, key: str) -> set[str]:
	return set(
		frappe.get_all(
			"Alert Log",
			filters={"alert_rule": rule, "due_period": key, "outcome": FIRED},
			pluck="reference_name",
		)
	)


def run_scheduled_rule(rule: dict, key: str) -> int:
	"""Fire `rule` for each matching record not yet fired in the due period `key`."""
	doctype = rule["document_type"]
	meta = frappe.get_meta(doctype)
	done = _already_fired(rule["name"], key)
	fields = ["name", *dict.fromkeys(c.fieldname for c in rule["conditions"])]
	count = 0
	last = ""
	while True:
		try:
			rows = frappe.get_all(
				doctype,
				filters={"name": (">", last)},
				fields=fields,
				order_by="name asc",
				limit_page_length=BATCH_SIZE,
			)
		except Exception as e:  # a condition field deleted since the rule was saved
			record_failure(rule, None, e, due_period=key)
			return count
		if not rows:
			return count
		last = rows[-1].name
		for row in rows:
			if row.name in done:
				continue
			try:
				matches = cond.evaluate(rule["conditions"], rule["condition_match"], row, None, doctype, meta)
			except Exception as e:
				record_failure(rule, frappe.get_doc(doctype, row.name), e, due_period=key)
				return count
			if not matches:
				continue
			if run_rule(rule, frappe.get_doc(doctype, row.name), None, due_period=key):
				count += 1
			if not cint(frappe.db.get_value("Alert Rule", rule["name"], "enabled")):
				return count  # switched off by its failures
