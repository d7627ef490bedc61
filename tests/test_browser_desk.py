"""In a real browser, as a salesperson works: full form, quick create from the search bar, filters and saved
filters, bulk comment, Kanban drag, the forecast report and its chart, report view exports.

These flows need only the web server (the desk fixture): none of them waits on a background job or on
socketio (exports and the bulk comment answer in the request)."""

import csv
import io
import re

import frappe
import pytest
from frappe.utils import add_days, today

from opportunity_suite.services.kanban import BOARD_NAME
from tests.factories import unique

pytestmark = pytest.mark.browser


@pytest.fixture
def committed():
	"""Opportunities made for (or by) a browser test, committed so the web server sees them; deleted after."""
	made: list[str] = []

	def make(**values):
		doc = frappe.get_doc(
			{
				"doctype": "Opportunity",
				"opportunity_name": unique("Browser deal"),
				"sales_stage": "Prospecting",
				"expected_close_date": add_days(today(), 20),
				**values,
			}
		).insert()
		frappe.db.commit()
		made.append(doc.name)
		return doc

	make.track = made.append
	yield make
	frappe.db.rollback()
	for name in made:
		if frappe.db.exists("Opportunity", name):
			frappe.delete_doc("Opportunity", name, force=True, ignore_permissions=True)
	frappe.db.commit()


def _user_date(page, iso: str) -> str:
	return page.evaluate("(d) => frappe.datetime.str_to_user(d)", iso)


def _pick_link(scope, fieldname: str, value: str):
	field = scope.locator(f"input[data-fieldname='{fieldname}']:visible").first
	field.click()
	field.fill(value)
	scope.page.locator("[role=option]:visible", has_text=value).first.click()


def _latest(name: str):
	frappe.db.rollback()  # see what the web server committed
	return frappe.get_last_doc("Opportunity", filters={"opportunity_name": name})


def test_create_in_the_full_form(desk, committed):
	name = unique("Full form deal")
	desk.goto("/app/opportunity/new")
	form = desk.locator(".form-layout")
	form.locator("input[data-fieldname='opportunity_name']").fill(name)
	form.locator("input[data-fieldname='amount']").fill("5000")
	_pick_link(form, "sales_stage", "Value Proposition")
	date_input = form.locator("input[data-fieldname='expected_close_date']")
	date_input.fill(_user_date(desk, add_days(today(), 45)))
	date_input.press("Escape")
	form.locator("input[data-fieldname='next_step']").fill("Send the proposal")
	desk.keyboard.press("Control+s")
	desk.locator(".indicator-pill", has_text="Value Proposition").first.wait_for()
	opp = _latest(name)
	committed.track(opp.name)
	assert (opp.amount, opp.probability, opp.forecast_amount, opp.next_step) == (5000, 30, 1500, "Send the proposal")
	forecast = desk.locator(".frappe-control[data-fieldname='forecast_amount'] .control-value")
	assert "1,500.00" in forecast.inner_text()


def test_quick_create_from_the_search_bar(desk, committed):
	name = unique("Search bar deal")
	desk.goto("/app/opportunity")
	search = desk.locator("#navbar-search")
	search.click()
	search.fill("New Opportunity")
	desk.locator(".awesomplete li:visible").filter(has_text=re.compile(r"^\s*New Opportunity\s*$")).first.click()
	dialog = desk.locator(".modal.show .modal-dialog")
	dialog.wait_for()
	dialog.locator("input[data-fieldname='opportunity_name']").fill(name)
	_pick_link(dialog, "sales_stage", "Qualification")
	date_input = dialog.locator("input[data-fieldname='expected_close_date']")
	date_input.fill(_user_date(desk, add_days(today(), 10)))
	dialog.locator(".modal-title").click()
	dialog.locator("input[data-fieldname='amount']").fill("700")
	dialog.locator("input[data-fieldname='amount']").press("Tab")
	dialog.locator(".btn-primary", has_text="Save").click()
	dialog.wait_for(state="hidden")
	opp = _latest(name)
	committed.track(opp.name)
	assert (opp.sales_stage, opp.probability, opp.forecast_amount) == ("Qualification", 20, 140)
