"""In a real browser: a salesperson creates an opportunity by quick entry and sees its forecast."""

import frappe
import pytest
from frappe.utils import add_days, today

from tests.browser_helpers import pick_link, type_number

pytestmark = pytest.mark.browser


def test_quick_entry_creates_an_opportunity_with_its_forecast(desk):
	name = "Browser deal " + frappe.generate_hash(length=6)
	desk.goto("/app/opportunity")
	desk.locator(".primary-action", has_text="Add Opportunity").click()
	dialog = desk.locator(".modal.show .modal-dialog")
	dialog.wait_for()
	dialog.locator("input[data-fieldname='opportunity_name']").fill(name)
	pick_link(dialog, "sales_stage", "Qualification")
	close = desk.evaluate("(d) => frappe.datetime.str_to_user(d)", add_days(today(), 20))
	date_input = dialog.locator("input[data-fieldname='expected_close_date']")
	date_input.fill(close)
	dialog.locator(".modal-title").click()  # closes the date picker
	type_number(dialog, "amount", 1000)
	type_number(dialog, "probability", 20)
	# a person looks before saving: the dialog holds what was typed (a slow link check can re-render it)
	desk.wait_for_function(
		"() => cur_dialog.get_value('amount') == 1000 && cur_dialog.get_value('probability') == 20"
		" && cur_dialog.get_value('sales_stage') == 'Qualification'"
	)
	dialog.locator(".btn-primary", has_text="Save").click()
	dialog.wait_for(state="hidden")

	frappe.db.rollback()  # see what the web server committed
	opp = frappe.get_last_doc("Opportunity", filters={"opportunity_name": name})
	try:
		assert (opp.amount, opp.probability, opp.forecast_amount) == (1000, 20, 200)
		desk.goto(f"/app/opportunity/{opp.name}")
		forecast = desk.locator(".frappe-control[data-fieldname='forecast_amount'] .control-value")
		forecast.wait_for()
		assert "200.00" in forecast.inner_text()
		assert desk.locator(".title-text", has_text=name).first.is_visible()
	finally:
		frappe.delete_doc("Opportunity", opp.name, force=True)
		frappe.db.commit()
