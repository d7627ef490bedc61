"""The opportunity's page as a sales team reads it (issue 13, "The opportunity's page"), in Chromium at
1440×900: the deal first, the related lists below it in one place, Convert to Project where it belongs,
the stage path, a contact made from the contact field, and the related list's to-dos and events."""

import frappe
import pytest
from frappe.utils import add_days, today

from tests.browser_helpers import screenshot
from tests.factories import make_opportunity, unique
from tests.http_users import PASSWORD, make_login_users, remove_login_users
from tests.records_fixtures import delete_committed

VIEWPORT = {"width": 1440, "height": 900}


@pytest.fixture(scope="module")
def seller():
	users = make_login_users(seller="Sales User")
	try:
		yield users["seller"]
	finally:
		remove_login_users(users)


def _page(browser, web_server, user: str | None, request, desk_session=None):
	if user:
		context = browser.new_context(base_url=web_server, viewport=VIEWPORT)
		response = context.request.post("/api/method/login", data={"usr": user, "pwd": PASSWORD})
		assert response.ok, response.text()
	else:
		context = browser.new_context(base_url=web_server, viewport=VIEWPORT, storage_state=desk_session)
	page = context.new_page()
	page.set_default_timeout(30_000)
	return context, page


@pytest.fixture
def seller_page(browser, web_server, seller, request):
	"""A desk page at 1440×900 as a user with exactly the Sales User role."""
	context, page = _page(browser, web_server, seller, request)
	yield page
	screenshot(page, f"{request.node.name}-last")
	context.close()


@pytest.fixture
def admin_page(browser, web_server, desk_session, request):
	context, page = _page(browser, web_server, None, request, desk_session)
	yield page
	screenshot(page, f"{request.node.name}-last")
	context.close()


@pytest.fixture
def deals():
	"""Committed opportunities made with `deals(**values)`, deleted afterwards with what hangs on them."""
	names = []

	def make(**values):
		frappe.set_user("Administrator")
		opp = make_opportunity(**values)
		frappe.db.commit()
		names.append(opp.name)
		return opp

	yield make
	frappe.db.rollback()
	frappe.set_user("Administrator")
	for name in names:
		for doctype, field in (("ToDo", "reference_name"), ("Comment", "reference_name"), ("File", "attached_to_name")):
			for row in frappe.get_all(doctype, {field: name}, pluck="name"):
				frappe.delete_doc(doctype, row, force=True, ignore_permissions=True)
		for event in frappe.get_all(
			"Event Participants", {"reference_doctype": "Opportunity", "reference_docname": name}, pluck="parent"
		):
			frappe.delete_doc("Event", event, force=True, ignore_permissions=True)
	delete_committed("Opportunity", names)
	frappe.db.commit()


def open_deal(page, name: str):
	page.goto(f"/app/opportunity/{name}")
	page.locator(".opportunity-stage-path").wait_for()
	page.locator(".opportunity-related").wait_for(state="attached")
	page.wait_for_function("() => !frappe.request.ajax_count")


def on_first_screen(page, fieldname: str) -> str:
	"""The value a field shows, asserting it is within the first screen (no scrolling)."""
	control = page.locator(f"#page-Opportunity .frappe-control[data-fieldname='{fieldname}']").first
	box = control.bounding_box()
	assert box is not None, f"{fieldname} is not shown"
	assert page.evaluate("window.scrollY") == 0
	assert box["y"] >= 0 and box["y"] + box["height"] <= VIEWPORT["height"], f"{fieldname} is below the first screen: {box}"
	value = control.locator(".control-value, input, .like-disabled-input").first
	return (value.input_value() if value.evaluate("e => e.tagName") == "INPUT" else value.inner_text()).strip()


@pytest.mark.browser
@pytest.mark.slow
def test_the_first_screen_leads_with_the_deal(admin_page, deals):
	page = admin_page
	deal = deals(
		opportunity_name=unique("First screen"),
		amount=12000,
		sales_stage="Proposal/Price Quote",
		next_step="Call the buyer",
		assigned_to="Administrator",
	)
	open_deal(page, deal.name)
	screenshot(page, "deal_page_first_screen")
	for fieldname in (
		"opportunity_name",
		"organization",
		"amount",
		"probability",
		"forecast_amount",
		"sales_stage",
		"expected_close_date",
		"assigned_to",
		"next_step",
	):
		print(fieldname, on_first_screen(page, fieldname))
