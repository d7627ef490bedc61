"""Opportunity Import fires alert rules through the alert service a save uses, only when Opportunity
Settings' `alerts_on_import` is on, and once per rule and record."""

import frappe
import pytest

from tests.alerts_fixtures import alert_logs, make_rule
from tests.factories import unique
from tests.import_fixtures import cleanup, created, csv_bytes, make_import, prepare, run  # noqa: F401

HEADER = ["Opportunity Name", "Amount", "Sales Stage", "Expected Close Date"]


@pytest.fixture
def big_deal_rule():
	rule = make_rule(conditions=[("amount", "Greater Than", "10000")], trigger="Every Save")
	frappe.db.commit()
	yield rule
	frappe.db.rollback()
	for log in frappe.get_all("Alert Log", {"alert_rule": rule.name}, pluck="name"):
		frappe.delete_doc("Alert Log", log, force=True, ignore_permissions=True)
	frappe.delete_doc("Alert Rule", rule.name, force=True, ignore_permissions=True)
	frappe.db.set_single_value("Opportunity Settings", "alerts_on_import", 0)
	frappe.db.commit()


def _import(made, tag):
	rows = [
		HEADER,
		[f"{tag} big", "15000", "Prospecting", "2026-12-31"],
		[f"{tag} small", "500", "Prospecting", "2026-12-31"],
	]
	doc = make_import(csv_bytes(rows))
	made["imports"].append(doc.name)
	prepare(doc)
	run(doc)
	names = created(doc)
	made["Opportunity"].extend(names)
	return names


@pytest.mark.parametrize("on", [0, 1])
def test_imported_rows_fire_rules_only_when_the_setting_is_on(cleanup, big_deal_rule, on):  # noqa: F811
	frappe.db.set_single_value("Opportunity Settings", "alerts_on_import", on)
	frappe.db.commit()
	names = _import(cleanup, unique("Imp alert"))
	assert len(names) == 2
	fired = {log.reference_name for log in alert_logs(big_deal_rule.name)}
	big = frappe.db.get_value("Opportunity", {"name": ("in", names), "amount": 15000})
	assert fired == ({big} if on else set())
