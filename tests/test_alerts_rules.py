"""Alert Rule as a record: which DocTypes it may watch, who may edit it, the shipped example."""

import frappe
import pytest

from opportunity_suite.services.alerts import allowed_doctypes
from opportunity_suite.services.alerts.errors import DocTypeNotAllowedError
from opportunity_suite.services.alerts.example import EXAMPLE_RULE, ensure_example_rule
from tests.alerts_fixtures import make_rule
from tests.factories import make_user


def test_allowed_doctypes_come_from_the_apps_module():
	allowed = allowed_doctypes()
	assert "Opportunity" in allowed
	# the app's business records only: no picklist, import run, batch or saved column map
	assert set(allowed) == {
		"Opportunity",
		"Lead",
		"Organization",
		"Product",
		"Service",
		"Quote",
		"Sales Order",
		"Project",
	}
	for name in ("Alert Rule", "Alert Log", "Opportunity Settings", "Alert Rule Condition", "User", "ToDo"):
		assert name not in allowed


@pytest.mark.parametrize("doctype", ["User", "ToDo", "Alert Log", "Opportunity Settings"])
def test_rule_on_another_doctype_is_refused(doctype):
	with pytest.raises(DocTypeNotAllowedError):
		make_rule(
			document_type=doctype,
			actions=[{"action_type": "Email", "recipient_addresses": "a@b.co", "subject": "x"}],
		)


def test_sales_manager_may_write_rules_sales_user_may_not():
	manager = make_user("Sales Manager")
	seller = make_user("Sales User")
	frappe.set_user(manager)
	rule = make_rule()
	assert rule.owner == manager
	frappe.set_user(seller)
	with pytest.raises(frappe.PermissionError):
		make_rule()
	assert not frappe.has_permission("Alert Rule", "read", user=seller)
	assert not frappe.has_permission("Alert Log", "write", user=manager)


def test_example_rule_ships_disabled_and_is_created_once():
	ensure_example_rule()
	ensure_example_rule()
	assert frappe.db.count("Alert Rule", {"name": EXAMPLE_RULE}) == 1
	rule = frappe.get_doc("Alert Rule", EXAMPLE_RULE)
	assert not rule.enabled
	assert rule.trigger == "On First Save"
	assert [(c.fieldname, c.operator, c.value) for c in rule.conditions] == [
		("amount", "Greater Than", "10000")
	]
	[action] = rule.actions
	assert (action.action_type, action.recipient_roles) == ("Email", "Sales Manager")
