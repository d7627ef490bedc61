"""In a real browser at 1440×900: a typed probability survives choosing the stage, quick entry fills the
stage's probability, and the form shows the forecast as a person types (before saving)."""

import frappe
import pytest
from frappe.utils import add_days, today

from tests.browser_helpers import pick_in_form, pick_link, screenshot, type_number, user_date

pytestmark = pytest.mark.browser


def _on_screen(scope, fieldname: str) -> str:
	"""What the field shows: an input's value, or a read-only field's text."""
	control = scope.locator(f".frappe-control[data-fieldname='{fieldname}']").first
	field_input = control.locator("input")
	if field_input.count() and field_input.first.is_visible():
		return field_input.first.input_value()
	return control.locator(".control-value").inner_text()


def _wait_shown(page, scope, fieldname: str, text: str):
	for _attempt in range(50):
		if text in _on_screen(scope, fieldname):
			return
		page.wait_for_timeout(200)
	raise AssertionError(f"{fieldname} shows {_on_screen(scope, fieldname)!r}, not {text!r}")


def _delete(name: str):
	frappe.db.rollback()  # see what the web server committed
	for opp in frappe.get_all("Opportunity", filters={"opportunity_name": name}, pluck="name"):
		frappe.delete_doc("Opportunity", opp, force=True)
	frappe.db.commit()


def test_form_keeps_a_typed_probability_and_previews_the_forecast(desk):
	desk.set_viewport_size({"width": 1440, "height": 900})
	name = "Browser forecast " + frappe.generate_hash(length=6)
	desk.goto("/app/opportunity/new")
	form = desk.locator(".form-layout")
	form.locator("input[data-fieldname='opportunity_name']").fill(name)
	amount = form.locator("input[data-fieldname='amount']")
	amount.fill("1000")
	amount.press("Tab")
	probability = form.locator("input[data-fieldname='probability']")
	probability.fill("20")
	probability.press("Tab")
	desk.wait_for_function("() => cur_frm.doc.probability == 20 && !frappe.request.ajax_count")
	pick_in_form(form, "sales_stage", "Needs Analysis")  # its default is 25
	_wait_shown(desk, form, "forecast_amount", "200.00")
	assert _on_screen(form, "probability").startswith("20")  # kept, not the stage's 25
	amount.fill("3000")
	amount.press("Tab")
	_wait_shown(desk, form, "forecast_amount", "600.00")  # before saving
	pick_in_form(form, "sales_stage", "Closed Won")
	_wait_shown(desk, form, "forecast_amount", "3,000.00")
	assert _on_screen(form, "probability").startswith("100")
	screenshot(desk, "probability_form_won_preview")
	date_input = form.locator("input[data-fieldname='expected_close_date']")
	date_input.fill(user_date(desk, add_days(today(), 20)))
	date_input.press("Escape")
	try:
		desk.keyboard.press("Control+s")
		# saved: the form's indicator shows the status (Open / Won / Lost), no longer the stage
		desk.wait_for_function("() => cur_frm && !cur_frm.is_new() && !cur_frm.is_dirty()")
		desk.locator(".page-head .indicator-pill", has_text="Won").first.wait_for()
		frappe.db.rollback()
		opp = frappe.get_last_doc("Opportunity", filters={"opportunity_name": name})
		assert (opp.probability, opp.forecast_amount) == (100, 3000)
	finally:
		_delete(name)


def _open_quick_entry(desk):
	desk.set_viewport_size({"width": 1440, "height": 900})
	desk.goto("/app/opportunity")
	desk.locator(".primary-action", has_text="Add Opportunity").click()
	dialog = desk.locator(".modal.show .modal-dialog")
	dialog.wait_for()
	desk.wait_for_function("() => cur_dialog && cur_dialog.fields_dict.amount && !frappe.request.ajax_count")
	return dialog


def test_quick_entry_fills_the_stage_s_probability(desk):
	dialog = _open_quick_entry(desk)
	pick_link(dialog, "sales_stage", "Qualification")
	_wait_shown(desk, dialog, "probability", "20")
	pick_link(dialog, "sales_stage", "Negotiation/Review")
	_wait_shown(desk, dialog, "probability", "80")
	screenshot(desk, "probability_quick_entry_default")


def test_quick_entry_keeps_a_typed_zero(desk):
	name = "Browser zero " + frappe.generate_hash(length=6)
	dialog = _open_quick_entry(desk)
	dialog.locator("input[data-fieldname='opportunity_name']").fill(name)
	date_input = dialog.locator("input[data-fieldname='expected_close_date']")
	date_input.fill(user_date(desk, add_days(today(), 20)))
	dialog.locator(".modal-title").click()  # closes the date picker
	type_number(dialog, "amount", 1000)
	type_number(dialog, "probability", 0)
	pick_link(dialog, "sales_stage", "Needs Analysis")
	desk.wait_for_timeout(500)
	assert float(_on_screen(dialog, "probability").rstrip("%")) == 0  # a typed 0 is a value, not 25
	try:
		dialog.locator(".btn-primary", has_text="Save").click()
		dialog.wait_for(state="hidden")
		frappe.db.rollback()
		opp = frappe.get_last_doc("Opportunity", filters={"opportunity_name": name})
		assert (opp.probability, opp.probability_is_manual, opp.forecast_amount) == (0, 1, 0)
	finally:
		_delete(name)


def test_with_the_rule_off_the_form_and_list_say_so(desk):
	from tests.factories import make_opportunity, set_forecast_settings

	desk.set_viewport_size({"width": 1440, "height": 900})
	opp = make_opportunity(sales_stage="Qualification", amount=1000)
	set_forecast_settings(forecast_enabled=0)
	frappe.db.commit()
	try:
		desk.goto(f"/app/opportunity/{opp.name}")
		desk.locator(".form-message", has_text="The forecast rule is off").first.wait_for()
		desk.goto("/app/opportunity?sales_stage=Qualification")
		desk.locator(".page-head .indicator-pill", has_text="Forecast rule off").first.wait_for()
		desk.locator(".forecast-rule-off").first.wait_for()
		screenshot(desk, "probability_rule_off_list")
	finally:
		frappe.db.rollback()
		set_forecast_settings(forecast_enabled=1)
		frappe.delete_doc("Opportunity", opp.name, force=True)
		frappe.db.commit()
