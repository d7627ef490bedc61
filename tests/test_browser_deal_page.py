"""The opportunity's page as a sales team reads it (issue 13, "The opportunity's page"), in Chromium at
1440×900: the deal first, the related lists below it in one place, Convert to Project where it belongs,
the stage path, a contact made from the contact field, and the related list's to-dos and events."""

import frappe
import pytest
from frappe.utils import add_days, today

from tests.browser_helpers import logged_in_page, pick_link, screenshot, user_date
from tests.factories import make_opportunity, unique
from tests.http_users import make_login_users, remove_login_users
from tests.records_fixtures import delete_committed, make_organization

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
		return logged_in_page(browser, web_server, user, VIEWPORT["width"], VIEWPORT["height"])
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
		for doctype, field in (
			("ToDo", "reference_name"),
			("Comment", "reference_name"),
			("File", "attached_to_name"),
		):
			for row in frappe.get_all(doctype, {field: name}, pluck="name"):
				frappe.delete_doc(doctype, row, force=True, ignore_permissions=True)
		for event in frappe.get_all(
			"Event Participants",
			{"reference_doctype": "Opportunity", "reference_docname": name},
			pluck="parent",
		):
			frappe.delete_doc("Event", event, force=True, ignore_permissions=True)
	delete_committed("Opportunity", names)
	frappe.db.commit()


def open_deal(page, name: str):
	page.goto(f"/app/opportunity/{name}")
	page.locator(".opportunity-stage-path").wait_for()
	page.locator(".opportunity-related").wait_for(state="attached")
	page.wait_for_function("() => !frappe.request.ajax_count")


def field(page, fieldname: str):
	return page.locator(f"#page-Opportunity .frappe-control[data-fieldname='{fieldname}']").first


def shown(page, fieldname: str) -> str:
	"""The value a field of the saved form shows."""
	control = field(page, fieldname)
	value = control.locator(".control-value:visible, input:visible, textarea:visible").first
	is_input = value.evaluate("e => e.tagName") in ("INPUT", "TEXTAREA")
	return (value.input_value() if is_input else value.inner_text()).strip()


def on_first_screen(page, fieldname: str) -> str:
	"""The value a field shows, asserting it is on the first screen (nothing scrolled)."""
	box = field(page, fieldname).bounding_box()
	assert box is not None, f"{fieldname} is not shown"
	assert page.evaluate("window.scrollY") == 0
	assert box["y"] >= 0 and box["y"] + box["height"] <= VIEWPORT["height"], f"{fieldname} is below: {box}"
	return shown(page, fieldname)


def current_stage(page) -> str:
	return page.locator(".opportunity-stage-path [aria-current='step']").inner_text().strip()


def related_count(page, key: str) -> str:
	return page.locator(f".opportunity-related [data-related='{key}'] .related-count").inner_text().strip()


def wait_for_count(page, key: str, value: int):
	page.wait_for_function(
		"([key, value]) => $(`.opportunity-related [data-related='${key}'] .related-count`).text().trim() == value",
		arg=[key, str(value)],
	)


def saved_with(page, stage: str):
	page.wait_for_function(
		"(stage) => cur_frm.doc.sales_stage === stage && !cur_frm.is_dirty() && !frappe.request.ajax_count",
		arg=stage,
	)
	page.locator(".opportunity-stage-path [aria-current='step']", has_text=stage).wait_for()


@pytest.mark.browser
@pytest.mark.slow
def test_the_first_screen_leads_with_the_deal(seller_page, seller, deals):
	page = seller_page
	frappe.set_user("Administrator")
	org = make_organization()
	frappe.db.commit()
	close_on = add_days(today(), 40)
	deal = deals(
		opportunity_name=unique("First screen"),
		organization=org.name,
		amount=12000,
		sales_stage="Proposal/Price Quote",
		expected_close_date=close_on,
		next_step="Call the buyer",
		assigned_to=seller,
	)
	try:
		open_deal(page, deal.name)
		screenshot(page, "deal_page_first_screen")
		assert on_first_screen(page, "opportunity_name") == deal.opportunity_name
		assert on_first_screen(page, "organization") == org.organization_name
		assert on_first_screen(page, "amount") == "12,000.00"
		assert on_first_screen(page, "probability").startswith("65")
		assert on_first_screen(page, "forecast_amount").endswith("7,800.00")
		assert on_first_screen(page, "sales_stage") == "Proposal/Price Quote"
		assert on_first_screen(page, "expected_close_date") == user_date(page, close_on)
		assert on_first_screen(page, "assigned_to") == seller
		assert on_first_screen(page, "next_step") == "Call the buyer"
		assert current_stage(page) == "Proposal/Price Quote"

		# the related lists come after the deal's fields, each kind once; no second list of connections
		related = page.locator(".opportunity-related").bounding_box()
		assert related["y"] > field(page, "description").bounding_box()["y"]
		rows = page.locator(".opportunity-related tr[data-related]")
		keys = [rows.nth(i).get_attribute("data-related") for i in range(rows.count())]
		assert len(keys) == len(set(keys))
		assert {"quotes", "sales_orders", "projects"} <= set(keys)
		assert page.locator("#page-Opportunity .document-link").count() == 0
		assert [
			h.strip() for h in page.locator(".form-dashboard-section .section-head:visible").all_inner_texts()
		] == ["Related"]
	finally:
		frappe.db.rollback()
		delete_committed("Opportunity", [deal.name])
		delete_committed("Organization", [org.name])
		frappe.db.commit()


def create_menu_items(page) -> list[str]:
	group = page.locator(".page-actions .inner-group-button[data-label='Create']")
	group.locator("button").click()
	items = [t.strip() for t in group.locator(".dropdown-menu .dropdown-item").all_inner_texts()]
	page.keyboard.press("Escape")
	return items


def primary_buttons(page) -> list[str]:
	return [t.strip() for t in page.locator(".page-actions .btn-primary:visible").all_inner_texts()]


@pytest.mark.browser
@pytest.mark.slow
def test_convert_to_project_is_the_primary_action_only_of_a_won_deal(admin_page, deals):
	page = admin_page
	early = deals(sales_stage="Qualification")
	open_deal(page, early.name)
	page.locator(".page-actions .inner-group-button[data-label='Create']").wait_for()
	page.wait_for_function("() => !frappe.request.ajax_count")
	assert "Convert to Project" not in primary_buttons(page)
	assert "Convert to Project" in create_menu_items(page)
	screenshot(page, "deal_page_convert_in_menu_when_open")

	won = deals(sales_stage="Closed Won")
	open_deal(page, won.name)
	page.locator(".page-actions .btn-primary", has_text="Convert to Project").wait_for()
	assert "Convert to Project" not in create_menu_items(page)
	screenshot(page, "deal_page_convert_primary_when_won")


@pytest.mark.browser
@pytest.mark.slow
def test_the_stage_path_moves_the_deal_through_the_normal_save(seller_page, deals):
	page = seller_page
	# a probability typed by hand (33 % in Prospecting): kept on open stages, 100 % once won
	deal = deals(amount=10000, sales_stage="Prospecting", probability=33)
	open_deal(page, deal.name)
	steps = page.locator(".opportunity-stage-path .stage-group.open .stage-step")
	frappe.db.rollback()
	expected = frappe.get_all(
		"Opportunity Stage",
		{"stage_type": "Open", "disabled": 0},
		pluck="name",
		order_by="sequence asc, name asc",
	)
	assert [t.strip() for t in steps.all_inner_texts()] == expected
	assert current_stage(page) == "Prospecting"
	screenshot(page, "deal_page_stage_path_before")

	page.locator(".opportunity-stage-path button", has_text="Negotiation/Review").click()
	saved_with(page, "Negotiation/Review")
	assert shown(page, "probability").startswith("33")
	assert page.locator(".opportunity-stage-path .stage-step.done").count() == expected.index(
		"Negotiation/Review"
	)

	page.locator(".opportunity-stage-path button", has_text="Closed Won").click()
	saved_with(page, "Closed Won")
	assert shown(page, "probability").startswith("100")
	assert shown(page, "forecast_amount").endswith("10,000.00")
	assert page.locator(".indicator-pill", has_text="Won").first.is_visible()
	screenshot(page, "deal_page_stage_path_won")

	# a lost deal needs its reason: asked for once (the form's lost-reason question), then saved with 0 %
	page.locator(".opportunity-stage-path button", has_text="Closed Lost").click()
	dialog = page.locator(".modal.show", has_text="Why was this deal lost?")
	pick_link(dialog, "loss_reason", "Price")
	dialog.locator("textarea[data-fieldname='lost_reason']").fill("Went with a competitor")
	dialog.locator(".btn-primary", has_text="Mark as Lost").click()
	saved_with(page, "Closed Lost")
	assert shown(page, "probability").startswith("0")
	assert shown(page, "lost_reason") == "Went with a competitor"
	assert not page.locator(".modal.show", has_text="Why was this deal lost?").count()  # not asked twice
	frappe.db.rollback()
	saved = frappe.db.get_value(
		"Opportunity",
		deal.name,
		["sales_stage", "status", "probability", "loss_reason", "lost_reason"],
		as_dict=True,
	)
	assert saved == {
		"sales_stage": "Closed Lost",
		"status": "Lost",
		"probability": 0,
		"loss_reason": "Price",
		"lost_reason": "Went with a competitor",
	}
	# every move was a save, in the document's history
	assert frappe.db.count("Version", {"ref_doctype": "Opportunity", "docname": deal.name}) >= 3


@pytest.mark.browser
@pytest.mark.slow
def test_a_new_contact_from_the_contact_field_keeps_the_name_and_joins_the_organization(seller_page, deals):
	page = seller_page
	frappe.set_user("Administrator")
	org = make_organization()
	frappe.db.commit()
	deal = deals(organization=org.name)
	last_name = f"Quick{frappe.generate_hash(length=6)}"
	contact = None
	try:
		open_deal(page, deal.name)
		contact_input = page.locator("#page-Opportunity input[data-fieldname='contact']")
		contact_input.click()
		contact_input.fill(f"Jane {last_name}")
		page.locator(".awesomplete [role=option]:visible", has_text="Create a new Contact").click()
		dialog = page.locator(".modal.show", has_text="New Contact")
		dialog.wait_for()
		assert dialog.locator("input[data-fieldname='first_name']").input_value() == "Jane"
		assert dialog.locator("input[data-fieldname='last_name']").input_value() == last_name
		assert (
			f"Linked to Organization {org.organization_name}"
			in dialog.locator(".contact-link-note").inner_text()
		)
		dialog.locator("input[data-fieldname='email']").fill(f"jane.{last_name.lower()}@example.com")
		screenshot(page, "deal_page_contact_quick_entry")
		dialog.locator(".btn-primary", has_text="Save").click()
		dialog.wait_for(state="hidden")
		page.wait_for_function("() => cur_frm.doc.contact && !frappe.request.ajax_count")
		assert page.url.endswith(f"/app/opportunity/{deal.name}")  # no Contact form opened
		contact = page.evaluate("cur_frm.doc.contact")
		assert contact_input.input_value() == f"Jane {last_name}"
		page.keyboard.press("Control+s")
		page.wait_for_function("() => !cur_frm.is_dirty() && !frappe.request.ajax_count")
		frappe.db.rollback()
		assert frappe.db.get_value("Opportunity", deal.name, "contact") == contact
		saved = frappe.get_doc("Contact", contact)
		assert (saved.first_name, saved.last_name, saved.email_id) == (
			"Jane",
			last_name,
			f"jane.{last_name.lower()}@example.com",
		)
		assert [(link.link_doctype, link.link_name) for link in saved.links] == [("Organization", org.name)]
	finally:
		frappe.db.rollback()
		frappe.db.set_value("Opportunity", deal.name, "contact", None, update_modified=False)
		delete_committed("Contact", [contact])
		delete_committed("Organization", [org.name])
		frappe.db.commit()


@pytest.mark.browser
@pytest.mark.slow
def test_related_counts_follow_what_a_sales_user_adds_in_the_form(seller_page, seller, deals, tmp_path):
	page = seller_page
	deal = deals(assigned_to="Administrator")
	open_deal(page, deal.name)
	url = page.url
	assert (related_count(page, "comments"), related_count(page, "documents")) == ("0", "0")
	activities = int(related_count(page, "activities"))

	# a to-do, for the deal's assignee (filled in), in a dialog over the deal
	page.locator("[data-related='activities'] button", has_text="New To Do").click()
	dialog = page.locator(".modal.show", has_text="New To Do")
	assert dialog.locator("input[data-fieldname='allocated_to']").input_value() == "Administrator"
	dialog.locator("textarea[data-fieldname='description']").fill("Send the price list")
	screenshot(page, "deal_page_new_todo")
	dialog.locator(".btn-primary", has_text="Save").click()
	dialog.wait_for(state="hidden")
	wait_for_count(page, "activities", activities + 1)

	# an event, the same way
	page.locator("[data-related='activities'] button", has_text="New Event").click()
	dialog = page.locator(".modal.show", has_text="New Event")
	assert dialog.locator("input[data-fieldname='subject']").input_value() == deal.opportunity_name
	dialog.locator(".btn-primary", has_text="Save").click()
	dialog.wait_for(state="hidden")
	wait_for_count(page, "activities", activities + 2)

	# a comment in the timeline
	page.locator(".comment-box .ql-editor").fill("Buyer asked for a discount")
	page.locator(".comment-box .btn-comment").click()
	wait_for_count(page, "comments", 1)

	# a file from the Related list's Attach
	upload = tmp_path / "offer.txt"
	upload.write_text("our offer\n")
	page.locator("[data-related='documents'] button", has_text="Attach").click()
	uploader = page.locator(".modal.show .modal-dialog")
	with page.expect_file_chooser() as chooser:
		uploader.locator("button.btn-file-upload", has_text="My Device").click()
	chooser.value.set_files(str(upload))
	uploader.locator(".btn-primary", has_text="Upload").click()
	wait_for_count(page, "documents", 1)
	screenshot(page, "deal_page_related_counts")
	assert page.url == url  # never left the deal

	frappe.db.rollback()
	todos = frappe.get_all(
		"ToDo",
		{"reference_type": "Opportunity", "reference_name": deal.name, "assigned_by": seller},
		["allocated_to", "description", "status"],
	)
	assert [(t.allocated_to, t.status) for t in todos] == [("Administrator", "Open")]
	assert "Send the price list" in todos[0].description
	events = frappe.get_all(
		"Event Participants",
		{"reference_doctype": "Opportunity", "reference_docname": deal.name},
		pluck="parent",
	)
	assert [frappe.db.get_value("Event", e, "owner") for e in events] == [seller]
	# a to-do for the assignee is not a change of assignee
	assert frappe.db.get_value("Opportunity", deal.name, "assigned_to") == "Administrator"
