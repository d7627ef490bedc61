"""Sample data (services/demo.py): a believable pipeline is loaded once, and its removal deletes exactly
what was loaded, keeping the user's own records and the sample records they link to."""

import frappe
import pytest
from frappe.utils import getdate

from opportunity_suite.api import demo as demo_api
from opportunity_suite.services import demo
from opportunity_suite.services.alerts.example import EXAMPLE_RULE
from tests.factories import make_opportunity, make_user

SAMPLE_DOCTYPES = ("Organization", "Contact", "Lead", "Product", "Service", "Opportunity", "Quote", "Project")


def _counts() -> dict[str, int]:
	return {doctype: frappe.db.count(doctype) for doctype in SAMPLE_DOCTYPES}


def _users_organization(name: str) -> str:
	"""The user's own organization, named like one of the samples (made before the load)."""
	existing = frappe.db.get_value("Organization", {"organization_name": name})
	if existing:
		return existing
	return frappe.get_doc({"doctype": "Organization", "organization_name": name}).insert().name


@pytest.fixture
def hot_deal_rule_off():
	frappe.db.set_value("Alert Rule", EXAMPLE_RULE, "enabled", 0)
	assert not demo.tracked(), "sample data is loaded on the test site: remove it first"


@pytest.mark.slow
def test_sample_data_is_a_pipeline_and_its_removal_takes_exactly_that_away(hot_deal_rule_off):
	# the user's records before the load: an organization with a sample's name, and a deal of theirs
	users_org = _users_organization(demo.ORGANIZATIONS[0][0])
	users_deal = make_opportunity(organization=users_org, amount=700)
	before = _counts()

	made = demo.load_sample_data()

	records = demo.tracked()["records"]
	assert made["counts"] == {doctype: len(names) for doctype, names in records.items()}
	assert made["counts"] == {
		"Organization": len(demo.ORGANIZATIONS) - 1,  # the user's one is used, not made
		"Contact": len(demo.ORGANIZATIONS),
		"Product": 4,
		"Service": 2,
		"Lead": 8,
		"Opportunity": 200,
		"Quote": 5,
		"Project": 1,
	}
	assert users_org not in records["Organization"]
	assert {doctype: count - before[doctype] for doctype, count in _counts().items()} == made["counts"]
	deals = frappe.get_all(
		"Opportunity",
		filters={"name": ("in", records["Opportunity"])},
		fields=["sales_stage", "status", "expected_close_date", "organization", "contact", "amount"],
	)
	stages = frappe.get_all("Opportunity Stage", filters={"disabled": 0}, pluck="name")
	assert {d.sales_stage for d in deals} == set(stages)  # every stage
	months = {getdate(d.expected_close_date).strftime("%Y-%m") for d in deals}
	assert len(months) >= 15  # six months back, twelve ahead
	assert {d.status for d in deals} == {"Open", "Won", "Lost"}
	assert all(d.organization and d.contact and d.amount > 0 for d in deals)
	# quotes with their lines, for open deals; a won deal converted to the project
	quotes = frappe.get_all(
		"Quote", filters={"name": ("in", records["Quote"])}, fields=["name", "opportunity", "total"]
	)
	assert all(q.opportunity in records["Opportunity"] and q.total > 0 for q in quotes)
	project = frappe.get_doc("Project", records["Project"][0])
	assert frappe.db.get_value("Opportunity", project.opportunity, ["status", "project"]) == (
		"Won",
		project.name,
	)
	# the site has an outgoing account (the tests' SMTP sink): the hot-deal rule is on
	assert made["rule_enabled"] and frappe.db.get_value("Alert Rule", EXAMPLE_RULE, "enabled")
	assert demo.status()["loaded"]
	with pytest.raises(demo.SampleDataError):
		demo.load_sample_data()

	# after the load the user makes records of their own on sample records
	sample_deal = records["Opportunity"][0]
	sample_org = records["Organization"][0]
	users_quote = frappe.get_doc(
		{"doctype": "Quote", "subject": "Our own quote", "opportunity": sample_deal}
	).insert()
	users_contact = frappe.get_doc(
		{
			"doctype": "Contact",
			"first_name": "Own",
			"last_name": "Contact",
			"links": [{"link_doctype": "Organization", "link_name": sample_org}],
		}
	).insert()

	deals_contact = frappe.db.get_value("Opportunity", sample_deal, "contact")

	removed = demo.remove_sample_data()

	# the deal the user's quote is for stays, and with it the contact the deal names
	assert removed["kept"] == {
		"Opportunity": [sample_deal],
		"Contact": [deals_contact],
		"Organization": [sample_org],
	}
	kept = {doctype: len(names) for doctype, names in removed["kept"].items()}
	assert removed["deleted"] == {
		doctype: count - kept.get(doctype, 0) for doctype, count in made["counts"].items()
	}
	after = _counts()
	assert after == {
		**before,
		"Opportunity": before["Opportunity"] + 1,  # the kept sample deal
		"Organization": before["Organization"] + 1,  # the kept sample organization
		"Quote": before["Quote"] + 1,  # the user's quote
		"Contact": before["Contact"] + 2,  # the user's contact and the kept deal's
	}
	for doctype, name in (
		("Organization", users_org),
		("Opportunity", users_deal.name),
		("Quote", users_quote.name),
		("Contact", users_contact.name),
	):
		assert frappe.db.exists(doctype, name), f"the user's {doctype} {name} was deleted"
	assert not frappe.db.get_value("Alert Rule", EXAMPLE_RULE, "enabled")
	# what was kept stays sample data: once the user's records let go, it goes too
	assert demo.status()["counts"] == kept
	frappe.delete_doc("Quote", users_quote.name)
	frappe.delete_doc("Contact", users_contact.name)
	assert demo.remove_sample_data() == {"deleted": kept, "kept": {}}
	assert not demo.status()["loaded"]
	assert _counts() == before


def test_removal_without_sample_data_deletes_nothing():
	assert not demo.tracked()
	before = _counts()
	assert demo.remove_sample_data() == {"deleted": {}, "kept": {}}
	assert _counts() == before


@pytest.mark.parametrize("role", ["Sales Manager", "Sales User"])
def test_only_a_system_manager_may_load_or_remove_sample_data(role):
	user = make_user(role)  # Frappe makes the user's Contact
	before = _counts()
	frappe.set_user(user)
	for method in (demo_api.sample_data_status, demo_api.load_sample_data, demo_api.remove_sample_data):
		with pytest.raises(frappe.PermissionError):
			method()
	frappe.set_user("Administrator")
	assert _counts() == before and not demo.tracked()


def test_a_system_manager_sees_the_sample_data_status():
	frappe.set_user(make_user("System Manager"))
	state = demo_api.sample_data_status()
	assert state["loaded"] is False and state["counts"] == {}
	assert state["empty"] is (frappe.db.count("Opportunity") == 0)
