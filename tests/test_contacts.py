import frappe
import pytest

from opportunity_suite.services.contacts import ContactLinkError, find_contact_by_email
from tests.factories import make_opportunity
from tests.records_fixtures import make_contact, make_lead, make_organization


def test_contact_links_to_organizations_and_leads_and_is_named_after_the_first():
	organization, lead = make_organization(), make_lead()
	contact = make_contact(links=[("Organization", organization.name), ("Lead", lead.name)])
	assert contact.name == f"{contact.first_name}-{organization.name}"
	assert contact.links[1].link_title == lead.lead_name


def test_contact_cannot_be_linked_to_an_opportunity():
	opp = make_opportunity()
	with pytest.raises(ContactLinkError):
		make_contact(links=[("Opportunity", opp.name)])


def test_opportunity_reaches_its_contacts_through_its_own_fields():
	organization = make_organization()
	primary, other = (make_contact(links=[("Organization", organization.name)]) for _ in range(2))
	opp = make_opportunity(
		organization=organization.name,
		contact=primary.name,
		contacts=[{"contact": other.name, "role": "Evaluator"}],
	)
	assert opp.contacts[0].full_name == other.first_name  # fetched from the contact
	assert opp.contacts[0].role == "Evaluator"
	with pytest.raises(frappe.ValidationError):
		make_opportunity(contacts=[{"contact": other.name, "role": "Sponsor"}])  # not one of the roles


def test_find_contact_by_any_of_its_emails_in_any_case():
	email = f"{frappe.generate_hash(length=8)}@find.example.com"
	contact = make_contact(email=email)
	contact.append("email_ids", {"email_id": "second-" + email})
	contact.save()
	assert find_contact_by_email(f" {email.upper()} ") == contact.name
	assert find_contact_by_email("SECOND-" + email) == contact.name
	assert find_contact_by_email("nobody@find.example.com") is None
