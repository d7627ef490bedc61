import frappe
import pytest
from frappe.utils import add_days, today

from tests.factories import unique


def test_quick_entry_is_on_with_the_required_fields():
	meta = frappe.get_meta("Opportunity")
	assert meta.quick_entry
	required = {df.fieldname for df in meta.fields if df.reqd}
	assert required == {"opportunity_name", "sales_stage", "expected_close_date"}
	quick = {df.fieldname for df in meta.fields if df.allow_in_quick_entry}
	assert {"amount", "probability"} <= quick
	# Frappe refuses quick entry for a DocType with a mandatory table or a mandatory field it can't show
	assert not [df for df in meta.fields if df.reqd and df.fieldtype in ("Table", "Table MultiSelect")]


def test_the_required_fields_alone_make_an_opportunity():
	doc = frappe.get_doc(
		{
			"doctype": "Opportunity",
			"opportunity_name": unique("Quick"),
			"sales_stage": "Needs Analysis",
			"expected_close_date": add_days(today(), 10),
		}
	).insert()
	assert (doc.probability, doc.status, doc.assigned_to, doc.forecast_amount) == (
		25,
		"Open",
		"Administrator",
		0,
	)
	assert doc.currency


@pytest.mark.parametrize("missing", ["opportunity_name", "sales_stage", "expected_close_date"])
def test_each_required_field_is_required(missing):
	values = {
		"doctype": "Opportunity",
		"opportunity_name": unique("Quick"),
		"sales_stage": "Prospecting",
		"expected_close_date": today(),
	}
	values.pop(missing)
	with pytest.raises(frappe.MandatoryError):
		frappe.get_doc(values).insert()


def test_an_untouched_probability_of_zero_takes_the_stage_default():
	"""The quick entry dialog sends 0 for a probability the user left empty."""
	from tests.factories import make_opportunity

	opp = make_opportunity(amount=700, sales_stage="Qualification", probability=0)
	assert (opp.probability, opp.probability_is_manual, opp.forecast_amount) == (20, 0, 140)
