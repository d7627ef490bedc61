"""Imports don't flood anyone: alerts_on_import (Opportunity Settings, default off)."""

import frappe
import pytest

from opportunity_suite.services.alerts import reset_import_memory, run_rules_for_imported_row
from tests.alerts_fixtures import alert_logs, make_rule
from tests.factories import make_opportunity


@pytest.fixture
def importing():
	frappe.flags.in_import = True
	reset_import_memory()
	yield
	frappe.flags.in_import = False


def set_alerts_on_import(on: bool):
	frappe.db.set_single_value("Opportunity Settings", "alerts_on_import", int(on))


def test_setting_is_off_by_default():
	field = frappe.get_meta("Opportunity Settings").get_field("alerts_on_import")
	assert field.fieldtype == "Check" and field.default == "0"


def test_import_fires_nothing_when_the_setting_is_off(importing):
	set_alerts_on_import(False)
	rule = make_rule(trigger="Every Save")
	opportunity = make_opportunity(amount=15000)
	opportunity.save()
	run_rules_for_imported_row(opportunity, is_new=False)
	assert alert_logs(rule.name) == []


def test_import_fires_once_per_rule_and_record_when_on(importing):
	set_alerts_on_import(True)
	rule = make_rule(trigger="Every Save")
	opportunity = make_opportunity(amount=15000)
	opportunity.next_step = "x"
	opportunity.save()  # Data Import may save a row twice: still one alert
	run_rules_for_imported_row(opportunity, is_new=False)
	other = make_opportunity(amount=1)
	assert len(alert_logs(rule.name, reference_name=opportunity.name)) == 1
	assert len(alert_logs(rule.name, reference_name=other.name)) == 1


def test_importer_entry_point_for_rows_written_without_the_controller():
	set_alerts_on_import(True)
	rule = make_rule(trigger="On First Save", conditions=[("amount", "Greater Than", "10000")])
	frappe.flags.in_import = True
	try:
		opportunity = make_opportunity(amount=15000)  # fires through doc_events
		reset_import_memory()
		run_rules_for_imported_row(("Opportunity", opportunity.name), is_new=True)  # a new import run
	finally:
		frappe.flags.in_import = False
	assert len(alert_logs(rule.name, reference_name=opportunity.name)) == 2
	set_alerts_on_import(False)
	run_rules_for_imported_row(opportunity, is_new=True)
	assert len(alert_logs(rule.name, reference_name=opportunity.name)) == 2
