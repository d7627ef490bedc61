"""A formula that fails for some values is refused at save; one that fails anyway never fails a save."""

import frappe
import pytest
from frappe.utils import now_datetime

from opportunity_suite.services.forecast import FormulaError
from opportunity_suite.services.formula import as_number, compile_formula
from opportunity_suite.services.recompute import recompute_all_forecasts
from tests.factories import make_opportunity, set_forecast_settings

FIELDS = frozenset({"amount", "probability", "exchange_rate"})
# sound for every edge value, but round() to NaN digits (infinity × 0) at probability 37: ValueError
FAILS_AT_37 = "round(amount, 1 / (probability - 37 + 1e-300) * 1e300 * 0)"


@pytest.fixture(autouse=True)
def _remove_error_logs():
	"""Error Log is MyISAM: it outlives the test's rollback."""
	start = now_datetime()
	yield
	frappe.db.delete("Error Log", {"method": ("like", "Forecast formula%"), "creation": (">=", start)})


@pytest.mark.parametrize(
	"formula, message",
	[
		("round(amount, 1e999 * 0)", "too large"),  # 1e999 is infinity; infinity × 0 is NaN
		("round(amount, 1e300 * 1e10 - 1e300 * 1e10)", "fails for"),  # NaN digits, no infinite literal
		("round(amount, amount * amount)", "fails for"),  # infinite digits for a huge amount
		("round(amount, probability / 0.0000001 * 1e300)", "fails for"),
		("9" * 400 + " * amount", "too large"),  # beyond float: an OverflowError, not a 500
		("9" * 400 + " / 3", "too large"),
	],
)
def test_formula_failing_for_an_edge_value_is_refused(formula, message):
	with pytest.raises(FormulaError, match=message):
		compile_formula(formula, FIELDS)


def test_the_refusal_names_the_values_it_failed_for():
	with pytest.raises(FormulaError, match=r"amount = 1e\+300"):
		compile_formula("round(probability, amount * amount)", FIELDS)


@pytest.mark.parametrize(
	"formula",
	[
		"amount * probability / 100",
		"amount / probability",  # a division by zero gives 0 for that record: accepted
		"round(amount / 3, 2) + abs(probability - 50)",
		"max(amount, 0) * 1e300",  # overflows to infinity for a huge amount: 0 for that record
	],
)
def test_formula_sound_for_every_value_is_accepted(formula):
	compile_formula(formula, FIELDS)


def test_settings_refuse_the_formula_that_broke_every_save():
	with pytest.raises(FormulaError):
		set_forecast_settings(forecast_formula="round(amount, 1e999 * 0)")


def _store_past_validation(formula: str):
	"""A formula that is in the settings without having passed today's checks (written before them)."""
	frappe.db.set_single_value("Opportunity Settings", "forecast_formula", formula)
	frappe.local.opportunity_suite_forecast = None


def test_formula_failing_for_a_record_gives_0_and_is_logged_and_the_save_succeeds():
	set_forecast_settings(forecast_formula=FAILS_AT_37)  # passes the checks
	frappe.local.opportunity_suite_formula_failures = None
	opportunity = make_opportunity(amount=1000, probability=37, probability_is_manual=1)  # was a 500
	assert opportunity.forecast_amount == 0
	assert frappe.get_all("Error Log", filters={"method": "Forecast formula failed for a record"})
	assert make_opportunity(amount=1000, probability=36, probability_is_manual=1).forecast_amount == 1000


def test_stored_formula_that_no_longer_compiles_gives_0_not_an_error():
	_store_past_validation("round(amount, 1e999 * 0)")
	opportunity = make_opportunity(amount=1000, probability=20)  # was an HTTP 500
	assert opportunity.forecast_amount == 0
	assert frappe.get_all("Error Log", filters={"method": "Forecast formula refused"})


def test_forecast_too_large_for_its_column_gives_0():
	set_forecast_settings(forecast_formula="amount * 1e9")
	frappe.local.opportunity_suite_formula_failures = None
	opportunity = make_opportunity(amount=5000, probability=20)  # 5e12 does not fit decimal(21, 9)
	assert opportunity.forecast_amount == 0
	assert frappe.db.get_value("Opportunity", opportunity.name, "forecast_amount") == 0


def test_recompute_survives_a_formula_failing_for_some_records():
	names = [
		make_opportunity(amount=1000, probability=37, probability_is_manual=1).name,
		make_opportunity(amount=1000, probability=36, probability_is_manual=1).name,
	]
	formula = frappe.db.get_single_value("Opportunity Settings", "forecast_formula")
	_store_past_validation(FAILS_AT_37)  # set without the settings' save, which would enqueue a job
	try:
		recompute_all_forecasts(publish=False)  # commits per batch (was: "Failed", ValueError)
		assert frappe.db.get_single_value("Opportunity Settings", "last_recompute_status") == "Completed"
		assert frappe.db.get_value("Opportunity", names[0], "forecast_amount") == 0
		assert frappe.db.get_value("Opportunity", names[1], "forecast_amount") == 1000
	finally:
		frappe.db.delete("Opportunity", {"name": ("in", names)})
		frappe.db.set_single_value("Opportunity Settings", "forecast_formula", formula)
		frappe.db.commit()


def test_numbers_are_read_as_frappe_reads_them():
	assert as_number("1,000.50") == frappe.utils.flt("1,000.50") == 1000.5
	assert as_number("abc") == as_number(None) == as_number({}) == 0
	assert as_number(float("nan")) == as_number("inf") == 0
	formula = compile_formula("amount * probability / 100", FIELDS)
	assert formula.evaluate({"amount": "1,000.50", "probability": "10"}) == pytest.approx(100.05)
