"""The lost-reason dialog in Chromium as a Sales User: a Kanban card dropped on Closed Lost, refused for
want of a reason, asks why and then is lost with the answer; choosing a Lost stage in the form asks too, and
a bulk edit of the list's rows into Closed Lost asks once for all of them."""

import frappe
import pytest

from opportunity_suite.services.kanban import BOARD_NAME
from tests.browser_helpers import logged_in_page, pick_in_form, pick_link, screenshot
from tests.conversion_fixtures import as_user
from tests.factories import make_opportunity
from tests.http_users import make_login_users, remove_login_users
from tests.test_browser_kanban_totals import _drag

pytestmark = pytest.mark.browser


@pytest.fixture
def seller():
	users = make_login_users(seller="Sales User")
	try:
		yield users["seller"]
	finally:
		remove_login_users(users)


@pytest.fixture
def seller_page(browser, web_server, seller, request):
	# wide enough for every column of the board, Closed Lost included, to be on screen
	context, page = logged_in_page(browser, web_server, seller, width=3200)
	yield page
	screenshot(page, request.node.name)  # the page as the test left it
	context.close()


@pytest.fixture
def deal(seller):
	campaign = frappe.generate_hash(length=10)
	doc = as_user(seller, make_opportunity, campaign=campaign, amount=1000)
	frappe.db.commit()
	yield doc
	frappe.db.rollback()
	frappe.delete_doc("Opportunity", doc.name, force=True, ignore_permissions=True)
	frappe.db.commit()


def _answer(page, reason: str, detail: str, question: str = "Why was this deal lost?"):
	dialog = page.locator(".modal:visible", has_text=question)
	dialog.wait_for()
	pick_link(dialog, "loss_reason", reason)
	dialog.locator("textarea[data-fieldname='lost_reason']").fill(detail)
	screenshot(page, "lost_reason_dialog")
	dialog.get_by_role("button", name="Mark as Lost").click()


def _stored(name: str):
	frappe.db.rollback()
	return frappe.db.get_value(
		"Opportunity", name, ["sales_stage", "loss_reason", "lost_reason"], as_dict=True
	)


def _wait_for_stage(page, name: str, stage: str):
	for _attempt in range(60):
		if _stored(name).sales_stage == stage:
			return
		page.wait_for_timeout(500)
	raise AssertionError(f"{name} never reached {stage}")


def _assert_history(name: str, user: str, from_stage: str = "Prospecting"):
	"""The move is in the deal's stage history, by the user who made it in the desk."""
	last = frappe.get_all(
		"Opportunity Stage History",
		filters={"opportunity": name},
		fields=["from_stage", "to_stage", "changed_by", "via"],
		order_by="changed_on desc, creation desc",
		limit=1,
	)
	assert [tuple(last[0].values())] == [(from_stage, "Closed Lost", user, "Save")]


def test_a_card_dropped_on_closed_lost_asks_why(seller_page, seller, deal):
	page = seller_page
	page.goto(f"/app/opportunity/view/kanban/{BOARD_NAME}?campaign={deal.campaign}")
	card = page.locator(f".kanban-card-wrapper[data-name='{deal.name}']")
	card.wait_for()
	page.wait_for_function("() => !frappe.request.ajax_count")
	page.evaluate(
		"""() => $(document).ajaxSend((_e, _x, s) => {
			if ((s.url || "").includes("update_order_for_single_card")) window.__moves = (window.__moves || 0) + 1;
		})"""
	)
	target = page.locator(".kanban-column[data-column-value='Closed Lost'] .kanban-cards")
	dialog = page.locator(".modal:visible", has_text="Why was this deal lost?")
	for _attempt in range(3):  # Sortable drops some synthetic first drags (see test_browser_kanban_totals)
		moves = page.evaluate("() => window.__moves || 0")
		_drag(page, card, target)
		page.wait_for_function("() => !frappe.request.ajax_count")
		if page.evaluate("() => window.__moves || 0") > moves:  # the drop reached the server: no new drag
			break
	dialog.wait_for()
	_answer(page, "Price", "Cheaper elsewhere")
	_wait_for_stage(page, deal.name, "Closed Lost")
	stored = _stored(deal.name)
	assert (stored.loss_reason, stored.lost_reason) == ("Price", "Cheaper elsewhere")
	page.locator(
		f".kanban-column[data-column-value='Closed Lost'] .kanban-card-wrapper[data-name='{deal.name}']"
	).wait_for()
	_assert_history(deal.name, seller)


def test_choosing_a_lost_stage_in_the_form_asks_why(seller_page, seller, deal):
	page = seller_page
	page.goto(f"/app/opportunity/{deal.name}")
	page.wait_for_function("() => window.cur_frm && cur_frm.doc.name && !frappe.request.ajax_count")
	pick_in_form(page.locator(".form-layout"), "sales_stage", "Closed Lost")
	_answer(page, "Timing", "Next year")
	page.wait_for_function("() => cur_frm.doc.loss_reason === 'Timing'")
	page.keyboard.press("Control+s")
	_wait_for_stage(page, deal.name, "Closed Lost")
	stored = _stored(deal.name)
	assert (stored.loss_reason, stored.lost_reason) == ("Timing", "Next year")
	_assert_history(deal.name, seller)


def test_saving_into_a_lost_stage_without_a_reason_asks_why(seller_page, deal):
	"""The stage's dialog closed unanswered: the save does not go to the server to be refused, the dialog
	asks again and the answer is saved."""
	page = seller_page
	page.goto(f"/app/opportunity/{deal.name}")
	page.wait_for_function("() => window.cur_frm && cur_frm.doc.name && !frappe.request.ajax_count")
	pick_in_form(page.locator(".form-layout"), "sales_stage", "Closed Lost")
	dialog = page.locator(".modal:visible", has_text="Why was this deal lost?")
	dialog.locator(".btn-modal-close").click()
	dialog.wait_for(state="hidden")
	page.keyboard.press("Control+s")
	_answer(page, "No Budget", "")
	_wait_for_stage(page, deal.name, "Closed Lost")
	assert _stored(deal.name).loss_reason == "No Budget"
	page.wait_for_function("() => !cur_frm.is_dirty() && cur_frm.doc.status === 'Lost'")
	assert page.locator(".modal:visible", has_text="Missing Lost Reason").count() == 0


@pytest.fixture
def deals(seller):
	"""Three of the seller's deals in two open stages, under a campaign of their own."""
	campaign = frappe.generate_hash(length=10)
	docs = [
		as_user(seller, make_opportunity, campaign=campaign, amount=100 * (i + 1), sales_stage=stage)
		for i, stage in enumerate(("Prospecting", "Qualification", "Prospecting"))
	]
	frappe.db.commit()
	yield docs
	frappe.db.rollback()
	for doc in docs:
		frappe.delete_doc("Opportunity", doc.name, force=True, ignore_permissions=True)
	frappe.db.commit()


def test_a_bulk_edit_into_closed_lost_asks_once_and_saves_each_deal(seller_page, seller, deals):
	"""List → select the rows → Actions → Edit → Sales Stage = Closed Lost: Frappe's update would fail every
	deal for want of a reason; the question comes once, each deal is saved with the stage and the answer."""
	page = seller_page
	page.goto(f"/app/opportunity?campaign={deals[0].campaign}")
	for doc in deals:
		page.locator(f".list-row-container:has([data-name='{doc.name}']) .list-row-checkbox").first.check()
	page.locator(".actions-btn-group button").first.click()
	page.locator(".actions-btn-group .dropdown-item", has_text="Edit").first.click()
	edit = page.locator(".modal:visible", has_text="Bulk Edit")
	edit.locator("select[data-fieldname='field']").select_option("Sales Stage")
	pick_link(edit, "value", "Closed Lost")
	edit.get_by_role("button", name="Update 3 records").click()
	_answer(page, "Price", "Cheaper elsewhere", question="Why were these 3 deals lost?")
	page.locator(".alert-message", has_text="3 opportunities marked as lost.").wait_for()
	screenshot(page, "bulk_lost_done")
	assert page.locator(".modal:visible").count() == 0  # no refusal, no edit dialog left open
	for doc in deals:
		stored = _stored(doc.name)
		assert (stored.sales_stage, stored.loss_reason, stored.lost_reason) == (
			"Closed Lost",
			"Price",
			"Cheaper elsewhere",
		)
		_assert_history(doc.name, seller, from_stage=doc.sales_stage)
	# the list shows them lost
	page.locator(
		f".list-row-container:has([data-name='{deals[0].name}']) .indicator-pill", has_text="Lost"
	).first.wait_for()


def test_the_seller_names_the_competitors_in_the_form(seller_page, deal):
	"""Competitors: a Table MultiSelect of Competitor records, picked by name like any link."""
	from tests.factories import make_picklist_value

	frappe.db.rollback()
	rivals = [make_picklist_value("Competitor", "Rival").name for _ in range(2)]
	frappe.db.commit()
	try:
		page = seller_page
		page.goto(f"/app/opportunity/{deal.name}")
		page.wait_for_function("() => window.cur_frm && cur_frm.doc.name && !frappe.request.ajax_count")
		field = page.locator(".frappe-control[data-fieldname='competitors'] input")
		field.scroll_into_view_if_needed()
		for rival in rivals:
			field.click()
			field.fill(rival)
			page.locator(".awesomplete [role=option]:visible", has_text=rival).first.click()
			page.wait_for_function(
				"(name) => (cur_frm.doc.competitors || []).some((row) => row.competitor === name)", arg=rival
			)
		page.keyboard.press("Control+s")
		page.wait_for_function("() => !cur_frm.is_dirty() && !frappe.request.ajax_count")
		frappe.db.rollback()
		stored = frappe.get_all(
			"Opportunity Competitor", filters={"parent": deal.name}, pluck="competitor", order_by="idx"
		)
		assert stored == rivals
		page.locator(
			".frappe-control[data-fieldname='competitors'] .tb-selected-value", has_text=rivals[0]
		).wait_for()
	finally:
		frappe.db.rollback()
		frappe.db.delete("Opportunity Competitor", {"parent": deal.name})
		for rival in rivals:
			frappe.delete_doc("Competitor", rival, force=True, ignore_permissions=True)
		frappe.db.commit()
