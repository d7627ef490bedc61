"""In Chromium: the opportunity form's Stage Facts (days in stage, close-date pushes, amount change) and its
snooze; the stale radar in the list (indicator, the "Stale" standard filter) and on the Kanban board (the
card's badge), all as a Sales User."""

import frappe
import pytest
from frappe.utils import add_days, today

from opportunity_suite.services.kanban import BOARD_NAME
from tests.browser_helpers import logged_in_page, screenshot
from tests.conversion_fixtures import as_user
from tests.factories import make_opportunity
from tests.http_users import make_login_users, remove_login_users
from tests.test_stage_history import entered_days_ago

pytestmark = pytest.mark.browser
HISTORY = "Opportunity Stage History"


def _delete(names):
	frappe.db.rollback()
	for name in names:
		frappe.delete_doc("Opportunity", name, force=True, ignore_permissions=True)
	frappe.db.commit()


@pytest.fixture
def seller():
	users = make_login_users(seller="Sales User")
	try:
		yield users["seller"]
	finally:
		remove_login_users(users)


@pytest.fixture
def seller_desk(browser, web_server, seller):
	context, page = logged_in_page(browser, web_server, seller)
	yield page
	context.close()


@pytest.fixture
def radar(seller):
	"""Two deals of the seller in one campaign: one stale (nothing planned), one with a to-do ahead."""
	campaign = frappe.generate_hash(length=10)
	stale = as_user(seller, make_opportunity, campaign=campaign, amount=100)
	fresh = as_user(seller, make_opportunity, campaign=campaign, amount=200)
	frappe.get_doc(
		{
			"doctype": "ToDo",
			"description": "demo",
			"reference_type": "Opportunity",
			"reference_name": fresh.name,
			"date": add_days(today(), 3),
		}
	).insert()
	frappe.db.commit()
	assert frappe.db.get_value("Opportunity", stale.name, "is_stale") == 1
	assert frappe.db.get_value("Opportunity", fresh.name, "is_stale") == 0
	yield frappe._dict(campaign=campaign, stale=stale, fresh=fresh)
	frappe.db.delete("ToDo", {"reference_name": ("in", [stale.name, fresh.name])})
	_delete([stale.name, fresh.name])


@pytest.fixture
def deal_with_history(seller):
	opp = as_user(seller, make_opportunity, amount=1000, expected_close_date=add_days(today(), 10))
	opp.expected_close_date = add_days(today(), 25)  # pushed 15 days
	opp.save()
	opp.expected_close_date = add_days(today(), 30)  # pushed 5 days
	opp.amount = 1250
	opp.save()
	entered_days_ago(opp.name, 4)
	frappe.db.commit()
	yield opp
	_delete([opp.name])


def _fact(page, name: str) -> str:
	return page.locator(f".opportunity-stage-fact[data-fact='{name}'] .stage-fact-value").inner_text().strip()


def test_the_form_shows_the_stage_facts_and_snoozes_a_stale_deal(seller_desk, deal_with_history):
	page = seller_desk
	opp = deal_with_history
	page.goto(f"/app/opportunity/{opp.name}")
	page.wait_for_function("(name) => cur_frm && cur_frm.doc.name === name", arg=opp.name)
	head = page.locator(".form-section .section-head", has_text="Stage Facts")
	head.click()
	page.locator(".opportunity-stage-facts").wait_for()
	assert _fact(page, "days_in_stage").startswith("4")
	assert _fact(page, "close_date_pushes") == "2 times, 20 days in all"
	assert "+" in _fact(page, "amount_change") and "250.00" in _fact(page, "amount_change")
	page.locator(".opportunity-stale-note", has_text="No upcoming to-do or event").wait_for()
	screenshot(page, "stage_facts")

	page.locator(".inner-group-button button", has_text="Stale").click()
	page.locator(".dropdown-menu.show .dropdown-item", has_text="Snooze").click()
	dialog = page.locator(".modal.show")
	dialog.locator("textarea[data-fieldname='reason']").fill("Customer on holiday")
	dialog.locator(".btn-primary", has_text="Snooze").click()
	page.wait_for_function("() => cur_frm && cur_frm.doc.snoozed_until && !cur_frm.doc.is_stale")
	page.locator(".opportunity-stale-note").wait_for(state="detached")
	frappe.db.rollback()
	row = frappe.db.get_value("Opportunity", opp.name, ["is_stale", "snooze_reason"], as_dict=True)
	assert (row.is_stale, row.snooze_reason) == (0, "Customer on holiday")


def test_the_list_says_stale_and_filters_on_it(seller_desk, radar):
	page = seller_desk
	page.goto(f"/app/opportunity?campaign={radar.campaign}")
	stale_row = page.locator(".list-row-container", has=page.locator(f"[data-name='{radar.stale.name}']"))
	fresh_row = page.locator(".list-row-container", has=page.locator(f"[data-name='{radar.fresh.name}']"))
	stale_row.locator(".indicator-pill", has_text="Stale").first.wait_for()
	fresh_row.locator(".indicator-pill", has_text="Open").first.wait_for()
	page.locator(".standard-filter-section input[data-fieldname='is_stale']").check()
	fresh_row.wait_for(state="detached")
	stale_row.wait_for()
	screenshot(page, "stale_list")


def test_the_kanban_card_of_a_stale_deal_has_a_badge(seller_desk, radar):
	page = seller_desk
	page.goto(f"/app/opportunity/view/kanban/{BOARD_NAME}?campaign={radar.campaign}")
	stale_card = page.locator(f".kanban-card-wrapper[data-name='{radar.stale.name}']")
	fresh_card = page.locator(f".kanban-card-wrapper[data-name='{radar.fresh.name}']")
	stale_card.locator(".opportunity-stale-badge", has_text="Stale").wait_for()
	fresh_card.wait_for()
	assert fresh_card.locator(".opportunity-stale-badge").count() == 0
	title = stale_card.locator(".opportunity-stale-badge .indicator-pill").get_attribute("title")
	assert title == "No upcoming to-do or event"
	screenshot(page, "stale_kanban")
