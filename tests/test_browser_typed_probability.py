"""In the desk's full form, a probability a person types is a value, 0 included, and also when it is
typed before the stage is chosen: choosing the stage afterwards doesn't replace it with the stage's
default. (An empty field takes the default, as an import's empty cell does.)"""

import frappe
import pytest
from frappe.utils import add_days, today

from tests.browser_helpers import pick_in_form, user_date
from tests.factories import unique

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("typed", [0, 35])
def test_a_probability_typed_before_the_stage_is_kept(desk, typed):
	name = unique("Typed probability")
	desk.goto("/app/opportunity/new")
	form = desk.locator(".form-layout")
	form.locator("input[data-fieldname='opportunity_name']").fill(name)
	probability = form.locator("input[data-fieldname='probability']")
	probability.fill(str(typed))
	probability.press("Tab")
	desk.wait_for_function(f"() => cur_frm.doc.probability === {typed}")
	pick_in_form(form, "sales_stage", "Negotiation/Review")
	date_input = form.locator("input[data-fieldname='expected_close_date']")
	date_input.fill(user_date(desk, add_days(today(), 30)))
	date_input.press("Escape")
	desk.wait_for_function("() => !frappe.request.ajax_count")
	desk.keyboard.press("Control+s")
	# saved: the form's indicator shows the status (Open / Won / Lost), no longer the stage
	desk.wait_for_function("() => cur_frm && !cur_frm.is_new() && !cur_frm.is_dirty()")
	frappe.db.rollback()
	saved = frappe.get_last_doc("Opportunity", filters={"opportunity_name": name})
	try:
		assert (saved.probability, saved.probability_is_manual) == (typed, 1)
	finally:
		frappe.delete_doc("Opportunity", saved.name, force=True, ignore_permissions=True)
		frappe.db.commit()
