"""The Opportunity Forecast report opens directly, even after Frappe's watchdog marks it prepared."""

import frappe
from frappe.desk.query_report import run as run_report

from opportunity_suite.install import after_migrate
from tests.factories import make_opportunity, make_user

REPORT = "Opportunity Forecast"


def _watchdog_switches_it():
	# what frappe.core.doctype.report.report.enable_prepared_report does after a 15 s run
	frappe.db.set_value("Report", REPORT, "prepared_report", 1)


def test_a_report_the_watchdog_switched_still_runs_directly():
	user = make_user("Sales User")
	make_opportunity(amount=1000, sales_stage="Prospecting", assigned_to=user)
	_watchdog_switches_it()
	frappe.set_user(user)
	result = run_report(REPORT, filters={})
	frappe.set_user("Administrator")
	assert not result.get("prepared_report")
	assert "result" in result and result["columns"]
	assert frappe.db.get_value("Report", REPORT, "prepared_report") == 0


def test_the_report_form_cannot_switch_it_on():
	doc = frappe.get_doc("Report", REPORT)
	doc.prepared_report = 1
	doc.save()
	assert frappe.db.get_value("Report", REPORT, "prepared_report") == 0


def test_a_run_never_starts_the_watchdog():
	# Frappe starts the watchdog only when the report is not prepared while it runs
	started = []
	doc = frappe.get_doc("Report", REPORT)
	original = frappe.core.doctype.report.report.threading.Timer

	class Recording(original):
		def __init__(self, *args, **kwargs):
			started.append(kwargs.get("kwargs"))
			super().__init__(*args, **kwargs)

	frappe.core.doctype.report.report.threading.Timer = Recording
	try:
		doc.execute_script_report({})
	finally:
		frappe.core.doctype.report.report.threading.Timer = original
	assert started == []
	assert doc.prepared_report == 0


def test_migrate_resets_a_switched_report():
	frappe.db.sql("update tabReport set prepared_report=1 where name=%s", REPORT)
	after_migrate()
	assert frappe.db.sql("select prepared_report from tabReport where name=%s", REPORT)[0][0] == 0
