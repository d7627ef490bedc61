import frappe
import pytest
from frappe.utils import flt

from opportunity_suite.services.forecast import ExchangeRateError, FormulaError
from tests.factories import make_opportunity, set_forecast_settings


def test_forecast_is_amount_times_probability():
	opp = make_opportunity(amount=1000, probability=20)
	assert opp.forecast_amount == 200
	assert frappe.db.get_value("Opportunity", opp.name, "forecast_amount") == 200
	assert opp.name.startswith("OPP-")


def test_forecast_is_rounded_to_the_currency_precision():
	opp = make_opportunity(amount=333.33, probability=33.3)  # 110.998889
	assert opp.forecast_amount == 111.0
	opp = make_opportunity(amount=10.05, probability=50)  # 5.025
	assert opp.forecast_amount in (5.02, 5.03)
	assert opp.forecast_amount == flt(10.05 * 50 / 100, 2)


def test_missing_amount_or_probability_counts_as_zero():
	assert make_opportunity(probability=50).forecast_amount == 0
	opp = make_opportunity(amount=500, sales_stage="Closed Lost", lost_reason="Budget cut")
	assert opp.probability == 0 and opp.forecast_amount == 0


def test_forecast_follows_every_save():
	opp = make_opportunity(amount=1000, probability=20)
	opp.amount = 2500
	opp.save()
	assert opp.forecast_amount == 500


def test_custom_formula():
	set_forecast_settings(forecast_formula="min(amount, 5000) * probability / 100 - 10")
	assert make_opportunity(amount=8000, probability=50).forecast_amount == 2490


def test_custom_formula_divides_by_zero_for_one_record_only():
	set_forecast_settings(forecast_formula="amount / probability")
	assert make_opportunity(amount=100, probability=0, probability_is_manual=1).forecast_amount == 0
	assert make_opportunity(amount=100, probability=40).forecast_amount == 2.5


def test_rule_off_leaves_stored_values_alone():
	opp = make_opportunity(amount=1000, probability=20)
	set_forecast_settings(forecast_enabled=0)
	opp.reload()
	opp.amount = 9000
	opp.save()
	assert opp.forecast_amount == 200
	assert frappe.db.get_value("Opportunity", opp.name, "forecast_amount") == 200


@pytest.mark.parametrize(
	"formula",
	[
		"amount * nonsense",
		"amount.__class__",
		"__import__('os').getcwd()",
		"frappe.db.sql('select 1')",
		"amount * 'ten'",
		"amount / 0",
		"amount if probability else 0",
	],
)
def test_settings_refuse_a_bad_formula_at_save(formula):
	before = frappe.db.get_single_value("Opportunity Settings", "forecast_formula")
	with pytest.raises(FormulaError):
		set_forecast_settings(forecast_formula=formula)
	assert frappe.db.get_single_value("Opportunity Settings", "forecast_formula") == before


def test_custom_number_field_can_be_used_in_the_formula():
	fieldname = "discount_" + frappe.generate_hash(length=6)
	field = frappe.get_doc(
		{
			"doctype": "Custom Field",
			"dt": "Opportunity",
			"fieldname": fieldname,
			"label": "Discount Pct",
			"fieldtype": "Percent",
			"insert_after": "probability",
		}
	).insert()
	try:
		frappe.clear_cache(doctype="Opportunity")
		set_forecast_settings(forecast_formula=f"amount * probability / 100 * (100 - {fieldname}) / 100")
		assert make_opportunity(amount=1000, probability=50, **{fieldname: 10}).forecast_amount == 450
		frappe.db.rollback()
	finally:
		frappe.db.rollback()
		frappe.delete_doc("Custom Field", field.name, force=True)
		frappe.db.commit()
		frappe.clear_cache(doctype="Opportunity")


def test_other_currency_keeps_base_amounts_in_the_default_currency():
	default = frappe.db.get_single_value("Opportunity Settings", "default_currency") or frappe.db.get_default(
		"currency"
	)
	other = "EUR" if default != "EUR" else "GBP"
	opp = make_opportunity(amount=1000, probability=20, currency=other, exchange_rate=1.1)
	assert (opp.forecast_amount, opp.base_amount, opp.base_forecast_amount) == (200, 1100, 220)
	same = make_opportunity(amount=1000, probability=20, exchange_rate=3)
	assert same.currency == default and same.exchange_rate == 1 and same.base_forecast_amount == 200
	with pytest.raises(ExchangeRateError):
		make_opportunity(amount=10, currency=other, exchange_rate=0)
