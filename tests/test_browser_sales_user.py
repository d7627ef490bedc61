"""The desk as a Sales User (issue 12, item 11): the related list's "New To Do" makes a to-do Frappe accepts,
and the app's DocTypes they may not read say "not permitted" instead of "Page … not found"."""

import frappe
import pytest

from tests.browser_helpers import logged_in_page
from tests.factories import make_opportunity
from tests.http_users import make_login_users, remove_login_users
from tests.records_fixtures import delete_committed


@pytest.fixture(scope="module")
def seller():
	users = make_login_users(seller="Sales User")
	try:
		yield users["seller"]
	finally:
		remove_login_users(users)


@pytest.fixture
def seller_desk(browser, web_server, seller):
	context, page = logged_in_page(browser, web_server, seller, width=1400)
	yield page
	context.close()


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.parametrize("doctype", ["Alert Rule", "Alert Log"])
def test_a_doctype_the_user_may_not_read_says_not_permitted(seller_desk, doctype):
	seller_desk.goto(f"/app/{frappe.scrub(doctype).replace('_', '-')}")
	message = seller_desk.locator(".message-page-content .lead")
	message.wait_for()
	assert message.inner_text().strip() == f"You are not permitted to open {doctype}."
	assert not seller_desk.get_by_text("not found").count()


@pytest.mark.browser
@pytest.mark.slow
def test_new_to_do_from_the_related_list_is_saved(seller_desk, seller):
	opp = make_opportunity(assigned_to="Administrator")
	frappe.db.commit()
	try:
		seller_desk.goto(f"/app/opportunity/{opp.name}")
		seller_desk.locator(".opportunity-related").first.wait_for()
		seller_desk.locator("[data-related='activities'] button", has_text="New To Do").click()
		dialog = seller_desk.locator(".modal.show")
		dialog.locator(".btn-primary", has_text="Save").click()
		dialog.wait_for(state="hidden")
		seller_desk.wait_for_function("() => !frappe.request.ajax_count")
		frappe.db.rollback()
		todos = frappe.get_all(
			"ToDo",
			{"reference_type": "Opportunity", "reference_name": opp.name},
			["assigned_by", "allocated_to"],
		)
		# for the deal's assignee (filled in by the dialog)
		assert [(t.assigned_by, t.allocated_to) for t in todos if t.assigned_by == seller] == [
			(seller, "Administrator")
		]
		# the deal keeps its assignee
		assert frappe.db.get_value("Opportunity", opp.name, "assigned_to") == "Administrator"
	finally:
		frappe.db.rollback()
		for name in frappe.get_all("ToDo", {"reference_name": opp.name}, pluck="name"):
			frappe.delete_doc("ToDo", name, force=True, ignore_permissions=True)
		delete_committed("Opportunity", [opp.name])
		frappe.db.commit()
