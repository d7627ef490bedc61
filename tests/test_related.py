import frappe
import pytest
from frappe.utils import add_days, now_datetime

from opportunity_suite.api.related import get_related, get_related_counts
from tests.factories import make_opportunity
from tests.records_fixtures import (
	delete_committed_users,
	line,
	make_committed_users,
	make_contact,
	make_organization,
	make_product,
	make_service,
)


def make_event(opportunity: str, event_type: str = "Public", status: str = "Open", **values):
	return frappe.get_doc(
		{
			"doctype": "Event",
			"subject": f"Meet about {opportunity}",
			"starts_on": add_days(now_datetime(), 1),
			"event_type": event_type,
			"status": status,
			"event_participants": [{"reference_doctype": "Opportunity", "reference_docname": opportunity}],
			**values,
		}
	).insert()


def make_todo(opportunity: str, allocated_to: str, status: str = "Open"):
	return frappe.get_doc(
		{
			"doctype": "ToDo",
			"description": "Follow up",
			"allocated_to": allocated_to,
			"status": status,
			"reference_type": "Opportunity",
			"reference_name": opportunity,
		}
	).insert(ignore_permissions=True)


@pytest.fixture(scope="module")
def users():
	made = make_committed_users(alice="Sales User", bob="Sales User", outsider="Blogger")
	yield frappe._dict(made)
	delete_committed_users(made)


@pytest.fixture
def busy_opportunity(users):
	"""An opportunity with several of each related record, and two sales users who see different parts."""
	alice, bob = users.alice, users.bob
	organization = make_organization()
	contacts = [make_contact(links=[("Organization", organization.name)]) for _ in range(3)]
	products, service = [make_product(), make_product()], make_service()
	opp = make_opportunity(
		organization=organization.name,
		contact=contacts[0].name,
		contacts=[
			{"contact": contacts[0].name, "role": "Decision Maker"},  # the primary contact counts once
			{"contact": contacts[1].name, "role": "Influencer"},
			{"contact": contacts[2].name, "role": "Technical Buyer"},
		],
		items=[line(products[0], qty=2), line(products[1]), line(service, qty=3)],
	)
	opp.next_step = "Send the proposal"
	opp.save(ignore_version=False)  # one entry in the change log (tests skip versions by default)
	other = make_opportunity()

	make_event(opp.name)  # public, open
	make_event(opp.name, status="Completed")  # public, closed
	make_event(other.name)  # another opportunity's
	frappe.set_user(alice)
	make_event(opp.name, event_type="Private")  # alice's private event: bob can't read it
	frappe.set_user("Administrator")
	make_todo(opp.name, alice)
	make_todo(opp.name, alice, status="Closed")
	make_todo(opp.name, bob)
	make_todo(other.name, bob)

	for text in ("First call went well", "Sent the price list", "Legal review next week"):
		opp.add_comment("Comment", text)
	for url in ("https://files.example.com/brief.pdf", "https://files.example.com/terms.pdf"):
		frappe.get_doc(
			{
				"doctype": "File",
				"file_url": url,
				"attached_to_doctype": "Opportunity",
				"attached_to_name": opp.name,
			}
		).insert()
	frappe.get_doc(
		{
			"doctype": "Communication",
			"communication_type": "Communication",
			"communication_medium": "Email",
			"sent_or_received": "Sent",
			"subject": "Our offer",
			"content": "Please find our offer",
			"reference_doctype": "Opportunity",
			"reference_name": opp.name,
		}
	).insert(ignore_permissions=True)
	linked = frappe.get_doc(
		{
			"doctype": "Communication",
			"communication_type": "Communication",
			"communication_medium": "Email",
			"sent_or_received": "Received",
			"subject": "Re: Our offer",
			"content": "Looks good",
			"reference_doctype": "Organization",
			"reference_name": organization.name,
		}
	)
	linked.append("timeline_links", {"link_doctype": "Opportunity", "link_name": opp.name})
	linked.insert(ignore_permissions=True)

	for doctype, title in (("Quote", "subject"), ("Quote", "subject"), ("Sales Order", "subject")):
		frappe.get_doc({"doctype": doctype, title: "For the deal", "opportunity": opp.name}).insert()
	frappe.get_doc({"doctype": "Quote", "subject": "Another deal", "opportunity": other.name}).insert()
	frappe.get_doc({"doctype": "Project", "project_name": "Rollout", "opportunity": opp.name}).insert()
	return frappe._dict(opp=opp, alice=alice, bob=bob, outsider=users.outsider)


COMMON = {
	"comments": 3,
	"emails": 2,
	"contacts": 3,
	"products": 2,
	"services": 1,
	"documents": 2,
	"quotes": 2,
	"sales_orders": 1,
	"projects": 1,
}


def test_counts_for_the_owner_of_a_private_event(busy_opportunity):
	frappe.set_user(busy_opportunity.alice)
	counts = get_related_counts(busy_opportunity.opp.name)
	assert {k: counts[k] for k in COMMON} == COMMON
	assert (counts["events"], counts["open_events"]) == (3, 2)  # public open, public completed, her private
	assert (counts["todos"], counts["open_todos"]) == (2, 1)  # her two to-dos, not bob's
	assert (counts["activities"], counts["activity_history"]) == (3, 2)
	assert counts["changes"] == 1


def test_counts_for_another_user_leave_out_what_he_cannot_read(busy_opportunity):
	frappe.set_user(busy_opportunity.bob)
	counts = get_related_counts(busy_opportunity.opp.name)
	assert {k: counts[k] for k in COMMON} == COMMON
	assert (counts["events"], counts["open_events"]) == (2, 1)  # not alice's private event
	assert (counts["todos"], counts["open_todos"]) == (1, 1)
	assert (counts["activities"], counts["activity_history"]) == (2, 1)


def test_each_list_filter_shows_what_is_counted(busy_opportunity):
	frappe.set_user(busy_opportunity.bob)
	related = get_related(busy_opportunity.opp.name)
	counts, lists = related["counts"], related["lists"]
	for key in ("events", "todos", "quotes", "sales_orders", "projects", "contacts"):
		spec = lists[key]
		names = frappe.get_list(spec["doctype"], filters=spec["filters"], pluck="name", distinct=True)
		assert len(names) == counts[key], key
	frappe.set_user("Administrator")  # the desk shows these to every reader of the opportunity
	for key in ("comments", "documents"):
		spec = lists[key]
		assert len(frappe.get_all(spec["doctype"], filters=spec["filters"], pluck="name")) == counts[key], key
	products = frappe.get_all("Product", filters=lists["products"]["filters"], pluck="name")
	assert sorted(products) == sorted(
		row.item for row in busy_opportunity.opp.items if row.item_type == "Product"
	)


def test_counts_are_refused_to_a_user_who_cannot_read_the_opportunity(busy_opportunity):
	frappe.set_user(busy_opportunity.outsider)
	with pytest.raises(frappe.PermissionError):
		get_related_counts(busy_opportunity.opp.name)
	with pytest.raises(frappe.PermissionError):
		get_related(busy_opportunity.opp.name)


def test_quotes_sales_orders_and_projects_are_listed_once_in_the_related_table(busy_opportunity):
	"""The form's one place for them (Frappe's Connections block is gone from the deal's page)."""
	from importlib.util import find_spec

	assert find_spec("opportunity_suite.opportunity_suite.doctype.opportunity.opportunity_dashboard") is None
	counts = get_related_counts(busy_opportunity.opp.name)
	assert (counts["quotes"], counts["sales_orders"], counts["projects"]) == (2, 1, 1)
