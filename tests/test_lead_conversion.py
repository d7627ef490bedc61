import frappe
import pytest
from frappe.utils import add_days, getdate, today

from opportunity_suite.api.lead import convert_lead as api_convert_lead
from opportunity_suite.services.lead_conversion import (
	AlreadyConvertedError,
	LeadConversionError,
	convert_lead,
)
from tests.concurrency import at_once
from tests.factories import make_user, unique
from tests.records_fixtures import delete_committed, make_contact, make_lead, make_organization, rest_client


def contact_of(opportunity) -> frappe._dict:
	return frappe.get_doc("Contact", opportunity.contact)


def test_new_organization_contact_and_opportunity_with_the_field_map():
	owner = make_user("Sales User")
	company = unique("Acme")
	lead = make_lead(
		company_name=company,
		phone="+1 555 0100",
		lead_source="Trade Show",
		description="<p>Met at the fair</p>",
		assigned_to=owner,
	)
	opp = frappe.get_doc("Opportunity", convert_lead(lead.name))

	assert opp.opportunity_name == company  # company -> opportunity name
	assert opp.description == "<p>Met at the fair</p>"
	assert opp.lead_source == "Trade Show"
	assert opp.assigned_to == owner
	assert opp.lead == lead.name
	assert opp.sales_stage == "Prospecting" and opp.status == "Open" and opp.probability == 10
	assert getdate(opp.expected_close_date) == getdate(add_days(today(), 30))

	organization = frappe.get_doc("Organization", opp.organization)
	assert organization.organization_name == company and organization.name == company

	contact = contact_of(opp)
	assert (contact.first_name, contact.last_name) == ("Ada", lead.last_name)
	assert contact.email_id == lead.email_id and contact.phone == "+1 555 0100"
	assert [(link.link_doctype, link.link_name) for link in contact.links] == [
		("Organization", company),
		("Lead", lead.name),
	]

	lead.reload()
	assert lead.status == "Converted" and lead.opportunity == opp.name


def test_given_name_stage_date_and_amount_win_over_the_map():
	lead = make_lead(company_name=unique("Acme"))
	name = convert_lead(
		lead.name,
		opportunity_name="Acme rollout",
		sales_stage="Qualification",
		expected_close_date="2031-01-31",
		amount=900,
	)
	opp = frappe.get_doc("Opportunity", name)
	assert (opp.opportunity_name, opp.sales_stage, str(opp.expected_close_date), opp.amount) == (
		"Acme rollout",
		"Qualification",
		"2031-01-31",
		900,
	)
	assert opp.forecast_amount == 180


def test_existing_organization_and_contact_are_reused():
	organization = make_organization()
	email = f"{frappe.generate_hash(length=8)}@reuse.example.com"
	contact = make_contact(email=email)
	organizations, contacts = frappe.db.count("Organization"), frappe.db.count("Contact")
	# same organization name and same email, typed differently
	lead = make_lead(company_name=f"  {organization.organization_name.upper()} ", email_id=email.upper())
	opp = frappe.get_doc("Opportunity", convert_lead(lead.name))

	assert opp.organization == organization.name
	assert opp.contact == contact.name
	assert (frappe.db.count("Organization"), frappe.db.count("Contact")) == (organizations, contacts)
	links = {(link.link_doctype, link.link_name) for link in frappe.get_doc("Contact", contact.name).links}
	assert links == {("Organization", organization.name), ("Lead", lead.name)}


def test_lead_without_company_is_named_after_the_person():
	organizations = frappe.db.count("Organization")
	lead = make_lead(first_name="Grace", last_name=unique("Hopper"), company_name=None)
	opp = frappe.get_doc("Opportunity", convert_lead(lead.name))
	assert opp.opportunity_name == f"Grace {lead.last_name}"
	assert not opp.organization
	assert frappe.db.count("Organization") == organizations
	assert [(link.link_doctype, link.link_name) for link in contact_of(opp).links] == [("Lead", lead.name)]


def test_junk_lead_is_refused():
	lead = make_lead(status="Junk", company_name=unique("Junk Co"))
	with pytest.raises(LeadConversionError, match="Junk"):
		convert_lead(lead.name)
	assert not frappe.db.exists("Organization", {"organization_name": lead.company_name})
	assert frappe.db.get_value("Lead", lead.name, "status") == "Junk"


def test_converting_twice_is_refused():
	lead = make_lead(company_name=unique("Twice"))
	first = convert_lead(lead.name)
	with pytest.raises(AlreadyConvertedError, match=first):
		convert_lead(lead.name)
	assert frappe.db.count("Opportunity", {"lead": lead.name}) == 1


def test_converted_status_cannot_be_set_by_hand():
	lead = make_lead()
	lead.status = "Converted"
	with pytest.raises(frappe.ValidationError):
		lead.save()


def test_failure_rolls_back_everything_and_keeps_the_outer_transaction():
	before = make_organization()  # made in the same transaction, before the conversion
	company = unique("Rollback")
	lead = make_lead(company_name=company)
	contacts = frappe.db.count("Contact")
	# the last step (the opportunity) fails after the organization and the contact were made
	with pytest.raises(frappe.LinkValidationError):
		convert_lead(lead.name, sales_stage="No Such Stage")
	assert not frappe.db.exists("Organization", company)
	assert frappe.db.count("Contact") == contacts
	assert not frappe.db.exists("Opportunity", {"lead": lead.name})
	assert frappe.db.get_value("Lead", lead.name, ["status", "opportunity"]) == ("New", None)
	assert frappe.db.exists("Organization", before.name)
	# and the lead can still be converted
	assert convert_lead(lead.name)


def test_api_allows_a_sales_user():
	user = make_user("Sales User")
	frappe.set_user(user)
	lead = make_lead(company_name=unique("Api Co"))
	name = api_convert_lead(lead.name, opportunity_name="From the API")
	assert frappe.db.get_value("Opportunity", name, ["opportunity_name", "lead"]) == (
		"From the API",
		lead.name,
	)


def test_api_refuses_a_user_without_rights():
	lead = make_lead(company_name=unique("Denied Co"))
	frappe.set_user(make_user("Blogger"))
	with pytest.raises(frappe.PermissionError):
		api_convert_lead(lead.name)
	frappe.set_user("Administrator")
	assert frappe.db.get_value("Lead", lead.name, "status") == "New"


def test_api_is_post_only():
	assert frappe.allowed_http_methods_for_whitelisted_func[api_convert_lead] == ["POST"]


# ---------------------------------------------------------------- two at once, on two connections


@pytest.mark.slow
def test_two_conversions_at_once_give_one_opportunity():
	company = unique("Race")
	lead = make_lead(company_name=company)
	frappe.db.commit()
	try:
		results = at_once(lambda: convert_lead(lead.name), AlreadyConvertedError)
		outcomes = sorted(kind for kind, _ in results)
		assert outcomes == ["converted", "refused"], results
		opportunity = next(value for kind, value in results if kind == "converted")
		refusal = next(value for kind, value in results if kind == "refused")
		assert opportunity in refusal
		assert frappe.get_all("Opportunity", filters={"lead": lead.name}, pluck="name") == [opportunity]
		assert frappe.db.count("Organization", {"organization_name": company}) == 1
		assert frappe.db.get_value("Lead", lead.name, "opportunity") == opportunity
	finally:
		_cleanup_conversion(lead.name, company)
	assert not frappe.db.exists("Lead", lead.name)


@pytest.mark.slow
def test_rest_method_converts_on_post_and_refuses_get(web_server):
	company = unique("Rest Lead Co")
	lead = make_lead(company_name=company)
	frappe.db.commit()
	try:
		call = rest_client(web_server)
		path = "/api/method/opportunity_suite.api.lead.convert_lead"
		status, body = call(f"{path}?lead={lead.name}", method="GET")
		assert status in (403, 405), body
		status, body = call(path, {"lead": lead.name, "opportunity_name": "Over REST"})
		assert status == 200, body
		opportunity = body["message"]
		status, body = call(path, {"lead": lead.name})
		assert status == 409 and body["exc_type"] == "AlreadyConvertedError", body
		frappe.db.rollback()
		assert frappe.db.get_value("Opportunity", opportunity, ["opportunity_name", "lead"]) == (
			"Over REST",
			lead.name,
		)
	finally:
		_cleanup_conversion(lead.name, company)


def _cleanup_conversion(lead: str, company: str):
	frappe.db.rollback()
	opportunities = frappe.get_all("Opportunity", filters={"lead": lead}, pluck="name")
	contacts = frappe.get_all(
		"Dynamic Link",
		filters={"link_doctype": "Lead", "link_name": lead, "parenttype": "Contact"},
		pluck="parent",
	)
	delete_committed("Lead", [lead])
	delete_committed("Opportunity", opportunities)
	delete_committed("Contact", contacts)
	delete_committed(
		"Organization", frappe.get_all("Organization", filters={"organization_name": company}, pluck="name")
	)
	frappe.db.commit()
