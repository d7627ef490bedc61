"""In a real browser: a salesperson creates an opportunity by quick entry and sees its forecast."""

import frappe
import pytest
from frappe.utils import add_days, today

pytestmark = pytest.mark.browser


def _pick_link(dialog, fieldname: str, value: str):
	field = dialog.locator(f"input[data-fieldname='{fieldname}']")
	field.click()
	field.fill(value)
	dialog.page.locator("[role=option]:visible", has_text=value).first.click()
	# wait for the link's server-side check to settle before typing on
	dialog.page.wait_for_function(
		f"() => cur_dialog.get_value('{fieldname}') == '{value}' && !frappe.request.ajax_count"
	)


def _type_number(dialog, fieldname: str, value: float):
	"""Type a number as a person does (then Tab), and look that the dialog took it; a field refreshed
	by a late server answer while typing gets typed again."""
	field = dialog.locator(f"input[data-fieldname='{fieldname}']")
	for _attempt in range(3):
		field.fill(str(value))
		field.press("Tab")
		try:
			dialog.page.wait_for_function(
				f"() => cur_dialog.get_value('{fieldname}') == {value}", timeout=5000
			)
			return
		except Exception:
			continue
	raise AssertionError(f"the dialog did not take {value} in {fieldname}")


def test_quick_entry_creates_an_opportunity_with_its_forecast(desk):
	name = "Browser deal " + frappe.generate_hash(length=6)
	desk.goto("/app/opportunity")
	desk.locator(".primary-action", has_text="Add Opportunity").click()
	dialog = desk.locator(".modal.show .modal-dialog")
	dialog.wait_for()
	dialog.locator("input[data-fieldname='opportunity_name']").fill(name)
	_pick_link(dialog, "sales_stage", "Qualification")
	close = desk.evaluate("(d) => frappe.datetime.str_to_user(d)", add_days(today(), 20))
	date_input = dialog.locator("input[data-fieldname='expected_close_date']")
	date_input.fill(close)
	dialog.locator(".modal-title").click()  # closes the date picker
	_type_number(dialog, "amount", 1000)
	_type_number(dialog, "probability", 20)
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
