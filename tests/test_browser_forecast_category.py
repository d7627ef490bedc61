"""In Chromium: the deal's forecast category is read-only, with the reason beside it, for a Sales User who
doesn't own the deal (every deal is writable by every Sales User here), and editable — and saved — for its
owner, its Assigned To (issue 16)."""

import frappe
import pytest

from tests.browser_helpers import logged_in_page, screenshot
from tests.factories import make_opportunity
from tests.http_users import make_login_users, remove_login_users
from tests.records_fixtures import delete_committed

pytestmark = [pytest.mark.browser, pytest.mark.slow]
FIELD = ".form-layout .frappe-control[data-fieldname='forecast_category']"
MARK = ".form-layout input[data-fieldname='forecast_category_is_manual']"


@pytest.fixture(scope="module")
def sellers():
	users = make_login_users(owner="Sales User", teammate="Sales User")
	try:
		yield frappe._dict(users)
	finally:
		remove_login_users(users)


@pytest.fixture
def deal(sellers):
	frappe.db.rollback()
	frappe.set_user("Administrator")
	opp = make_opportunity(sales_stage="Prospecting", assigned_to=sellers.owner)
	frappe.db.commit()
	yield opp
	frappe.db.rollback()
	delete_committed("Opportunity", [opp.name])
	frappe.db.commit()


def _open(browser, web_server, user: str, name: str):
	context, page = logged_in_page(browser, web_server, user)
	page.goto(f"/app/opportunity/{name}")
	page.wait_for_function(
		"(name) => window.cur_frm && cur_frm.doc.name === name && !frappe.request.ajax_count", arg=name
	)
	page.locator(FIELD).wait_for()
	return context, page


def test_the_field_is_read_only_for_a_teammate(browser, web_server, sellers, deal):
	context, page = _open(browser, web_server, sellers.teammate, deal.name)
	try:
		field = page.locator(FIELD)
		assert field.locator("select").is_hidden()  # no input: the value is shown as text
		assert field.locator(".control-value").inner_text().strip() == "Pipeline"
		assert "Only the deal's owner (its Assigned To)" in field.locator(".help-box").inner_text()
		assert page.locator(MARK).is_disabled()
		# the rest of the deal is theirs to edit
		assert page.locator(".form-layout .frappe-control[data-fieldname='amount'] input").is_editable()
		screenshot(page, "forecast_category_read_only_for_teammate")
	finally:
		context.close()


def test_the_owner_chooses_the_category_in_the_form(browser, web_server, sellers, deal):
	context, page = _open(browser, web_server, sellers.owner, deal.name)
	try:
		select = page.locator(FIELD).locator("select")
		assert select.is_editable() and page.locator(MARK).is_enabled()
		assert "Only the deal's owner" not in page.locator(FIELD).locator(".help-box").inner_text()
		select.select_option("Commit")
		page.wait_for_function("() => cur_frm.doc.forecast_category === 'Commit' && cur_frm.is_dirty()")
		page.keyboard.press("Control+s")
		page.wait_for_function("() => !cur_frm.is_dirty() && cur_frm.doc.forecast_category_is_manual === 1")
		frappe.db.rollback()
		stored = frappe.db.get_value(
			"Opportunity", deal.name, ["forecast_category", "forecast_category_is_manual"], as_dict=True
		)
		assert (stored.forecast_category, stored.forecast_category_is_manual) == ("Commit", 1)
		# and it stays editable after the save (the save's answer carries the same onload)
		assert page.locator(FIELD).locator("select").is_editable()
	finally:
		context.close()
