"""The Kanban board by stage in Chromium at 1440×900 as a Sales User: each column shows its count, total and
weighted amount in the default currency (a deal in another currency counted by its base amount); after a
card is dragged the totals follow and the card shows its new probability and forecast without a reload; the
board's horizontal scrollbar is shown and the closed columns are narrower."""

import frappe
import pytest

from opportunity_suite.services.kanban import BOARD_NAME
from tests.browser_helpers import logged_in_page, screenshot
from tests.conversion_fixtures import as_user
from tests.factories import make_opportunity
from tests.http_users import make_login_users, remove_login_users

pytestmark = pytest.mark.browser


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
def deals(seller):
	campaign = frappe.generate_hash(length=10)
	default = frappe.db.get_single_value("Opportunity Settings", "default_currency") or frappe.db.get_default(
		"currency"
	)
	other = "EUR" if default != "EUR" else "GBP"
	made = [
		as_user(seller, make_opportunity, campaign=campaign, amount=1000),
		as_user(seller, make_opportunity, campaign=campaign, amount=1000, currency=other, exchange_rate=1.1),
		as_user(seller, make_opportunity, campaign=campaign, amount=500, sales_stage="Qualification"),
	]
	frappe.db.commit()
	yield campaign, made
	frappe.db.rollback()
	for doc in made:
		frappe.delete_doc("Opportunity", doc.name, force=True, ignore_permissions=True)
	frappe.db.commit()


def _totals(page, stage: str) -> tuple[str, str, str]:
	totals = page.locator(f".kanban-column[data-column-value='{stage}'] .opportunity-kanban-totals")
	return (
		totals.locator(".kanban-total-count").inner_text().strip(),
		totals.locator(".kanban-total-amount").inner_text().strip(),
		totals.locator(".kanban-total-forecast").inner_text().strip(),
	)


def _wait_for_totals(page, stage: str, count: int):
	page.locator(
		f".kanban-column[data-column-value='{stage}'] .opportunity-kanban-totals[data-count='{count}']"
	).wait_for()


def _drag(page, card, target):
	source_box, target_box = card.bounding_box(), target.bounding_box()
	page.mouse.move(source_box["x"] + 20, source_box["y"] + 15)
	page.mouse.down()
	steps = 15
	for i in range(1, steps + 1):
		page.mouse.move(
			source_box["x"] + 20 + (target_box["x"] + 40 - source_box["x"] - 20) * i / steps,
			source_box["y"] + 15 + (target_box["y"] + 30 - source_box["y"] - 15) * i / steps,
		)
		page.wait_for_timeout(40)
	page.mouse.up()


def test_column_totals_before_and_after_a_card_is_dragged(seller_desk, deals):
	page = seller_desk
	campaign, (mine, foreign, _qualified) = deals
	page.goto(f"/app/opportunity/view/kanban/{BOARD_NAME}?campaign={campaign}")
	_wait_for_totals(page, "Prospecting", 2)
	_wait_for_totals(page, "Qualification", 1)
	screenshot(page, "kanban_totals_before")
	count, amount, forecast = _totals(page, "Prospecting")
	assert count == "2" and "2,100.00" in amount and "210.00" in forecast  # 1,000 + 1,000 × 1.1
	count, amount, forecast = _totals(page, "Qualification")
	assert count == "1" and "500.00" in amount and "100.00" in forecast
	# the deal in another currency shows its own currency on its card
	foreign_card = page.locator(f".kanban-card-wrapper[data-name='{foreign.name}']")
	symbol = frappe.db.get_value("Currency", foreign.currency, "symbol") or foreign.currency
	assert symbol in foreign_card.inner_text()

	page.wait_for_function("() => !frappe.request.ajax_count")
	card = page.locator(f".kanban-card-wrapper[data-name='{mine.name}']")
	target = page.locator(".kanban-column[data-column-value='Qualification'] .kanban-cards")
	landed = target.locator(f".kanban-card-wrapper[data-name='{mine.name}']")
	# Sortable drops some synthetic first drags in headless Chromium (the card stays, no request is made):
	# drag again then; the move itself is checked below, in the database and on screen
	for _attempt in range(3):
		_drag(page, card, target)
		try:
			landed.wait_for(timeout=5000)
			break
		except Exception:
			continue
	_wait_for_totals(page, "Qualification", 2)
	_wait_for_totals(page, "Prospecting", 1)
	count, amount, forecast = _totals(page, "Qualification")
	assert count == "2" and "1,500.00" in amount and "300.00" in forecast
	count, amount, forecast = _totals(page, "Prospecting")
	assert count == "1" and "1,100.00" in amount and "110.00" in forecast
	# the moved card shows the probability and forecast its save gave, without a reload
	moved = page.locator(
		f".kanban-column[data-column-value='Qualification'] .kanban-card-wrapper[data-name='{mine.name}']"
	)
	page.wait_for_function(
		"""(name) => {
			const card = document.querySelector(
				`.kanban-column[data-column-value='Qualification'] .kanban-card-wrapper[data-name='${name}']`);
			return card && card.innerText.includes("200.00");
		}""",
		arg=mine.name,
	)
	assert "20" in moved.inner_text()
	screenshot(page, "kanban_totals_after")
	frappe.db.rollback()
	assert frappe.db.get_value("Opportunity", mine.name, ["sales_stage", "forecast_amount"]) == (
		"Qualification",
		200,
	)


def test_the_board_scrolls_visibly_and_closed_columns_are_narrower(seller_desk, deals):
	page = seller_desk
	campaign, _made = deals
	page.goto(f"/app/opportunity/view/kanban/{BOARD_NAME}?campaign={campaign}")
	_wait_for_totals(page, "Prospecting", 2)
	board = page.locator(".kanban").first
	assert board.evaluate("(el) => getComputedStyle(el).overflowX") == "scroll"
	# Frappe hides the board's scrollbar; here it is shown (headless Chromium hides every scrollbar, so the
	# style is what can be read) and the board is wider than the screen at 1440 px
	assert board.evaluate("(el) => getComputedStyle(el).scrollbarWidth") == "auto"
	assert board.evaluate("(el) => el.scrollWidth > el.clientWidth")
	# a card's amounts are never cut in the narrower columns
	card = page.locator(".kanban-card-wrapper", has_text="Forecast Amount").first
	assert card.locator(".kanban-card-doc").evaluate("(el) => el.scrollWidth <= el.clientWidth")
	assert "100.00" in card.inner_text()
	page.locator(".kanban-column.opportunity-closed-column[data-column-value='Closed Won']").wait_for()
	# widths read in one go in the page (the board may redraw between two reads from here)
	page.wait_for_function(
		"""() => {
			const width = (value) => document.querySelector(`.kanban-column[data-column-value='${value}']`)
				?.getBoundingClientRect().width;
			const won = width("Closed Won"), open = width("Prospecting");
			return won > 0 && open > 0 && won < open;
		}"""
	)
