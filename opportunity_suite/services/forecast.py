"""Forecast Amount = the settings' formula over an opportunity (default amount × probability / 100).

One place computes it: `compute_amounts` for a document being saved, `forecast_values` for a plain row
(the bulk recompute and the importer use the same function), so every path gives the same numbers."""

from collections.abc import Mapping

import frappe
from frappe import _
from frappe.utils import flt

from opportunity_suite.services.field_checks import DECIMAL_LIMIT
from opportunity_suite.services.formula import (
	CompiledFormula,
	FormulaError,
	compile_formula,
	log_formula_failure,
)

DOCTYPE = "Opportunity"
SETTINGS = "Opportunity Settings"
DEFAULT_FORMULA = "amount * probability / 100"
NUMERIC_FIELDTYPES = ("Currency", "Float", "Int", "Percent")
# fields the formula computes, or that follow from it: never inputs of the formula
DERIVED_FIELDS = frozenset({"forecast_amount", "base_forecast_amount", "base_amount"})


class ExchangeRateError(frappe.ValidationError):
	pass


def formula_fields() -> frozenset[str]:
	"""The opportunity's number fields a formula may use (custom fields included)."""
	meta = frappe.get_meta(DOCTYPE)
	return frozenset(
		df.fieldname
		for df in meta.fields
		if df.fieldtype in NUMERIC_FIELDTYPES and df.fieldname not in DERIVED_FIELDS
	)


def _request_cache() -> dict:
	"""Per-request (per-job) memory: settings and the compiled formula are read once per request."""
	cache = getattr(frappe.local, "opportunity_suite_forecast", None)
	if cache is None:
		cache = frappe.local.opportunity_suite_forecast = {"formulas": {}}
	return cache


def get_settings() -> frappe._dict:
	"""The forecast settings, cached per request."""
	cache = _request_cache()
	if "settings" not in cache:
		values = frappe.db.get_singles_dict(SETTINGS, cast=True)
		cache["settings"] = frappe._dict(
			enabled=bool(values.get("forecast_enabled", 1)) if values else True,
			formula=(values.get("forecast_formula") if values else None) or DEFAULT_FORMULA,
			default_currency=(values.get("default_currency") if values else None)
			or frappe.db.get_default("currency")
			or "USD",
		)
	return cache["settings"]


def clear_settings_cache():
	frappe.local.opportunity_suite_forecast = None


def get_compiled_formula(text: str | None = None) -> CompiledFormula:
	text = text or get_settings().formula
	cache = _request_cache()["formulas"]
	if text not in cache:
		cache[text] = compile_formula(text, formula_fields())
	return cache[text]


def validate_formula(text: str) -> CompiledFormula:
	"""Raise FormulaError with a clear message when `text` is not an acceptable formula."""
	return compile_formula(text, formula_fields())


def currency_precision() -> int:
	"""Frappe's precision for Currency fields (System Settings' currency precision or number format),
	read once per request: Frappe's own lookup costs two cache reads, too much for a row of an import."""
	cache = _request_cache()
	if "precision" not in cache:
		from frappe.model.meta import get_field_precision

		cache["precision"] = get_field_precision(frappe.get_meta(DOCTYPE).get_field("forecast_amount"))
	return cache["precision"]


def _rounding_method() -> str:
	"""System Settings' rounding method, read once per request (`flt` reads it on every call)."""
	cache = _request_cache()
	if "rounding" not in cache:
		cache["rounding"] = frappe.get_system_settings("rounding_method") or "Banker's Rounding (legacy)"
	return cache["rounding"]


def _round(value, precision: int, rounding: str) -> float:
	"""`flt(value, precision)`, the way Frappe rounds a Currency field, with the rounding method passed."""
	return flt(value, precision, rounding)


def amount_rules() -> frappe._dict:
	"""Everything `compute_amounts` reads besides the document, looked up once per request: a caller
	computing many documents (the importer) passes it along instead of looking it up per row."""
	cache = _request_cache()
	if "rules" not in cache:
		settings = get_settings()
		cache["rules"] = frappe._dict(
			default_currency=settings.default_currency,
			formula=_saving_formula(settings.formula) if settings.enabled else None,
			precision=currency_precision(),
			rounding=_rounding_method(),
		)
	return cache["rules"]


def _saving_formula(text: str) -> CompiledFormula:
	"""The stored formula for a save; one that no longer compiles (a field it reads was deleted, or it
	was written past validation) is logged and gives 0: a save never fails because of the formula."""
	try:
		return get_compiled_formula(text)
	except FormulaError as e:
		frappe.log_error(
			title=_("Forecast formula refused"),
			message=_(
				"The stored forecast formula {0} is refused ({1}); forecasts are 0 until it is fixed."
			).format(text, e),
		)
		return compile_formula("0", frozenset())


def forecast_values(
	row: Mapping, formula: CompiledFormula, precision: int, rounding: str | None = None
) -> tuple[float, float]:
	"""(forecast_amount, base_forecast_amount) for one opportunity given as a plain mapping. A value
	beyond what the columns hold counts as a failed evaluation: 0, logged."""
	rounding = rounding or _rounding_method()
	forecast = _round(formula.evaluate(row), precision, rounding)
	rate = flt(row.get("exchange_rate")) or 1.0
	base = _round(forecast * rate, precision, rounding)
	if abs(forecast) >= DECIMAL_LIMIT or abs(base) >= DECIMAL_LIMIT:
		log_formula_failure(formula.text, {"name": row.get("name")}, _("a value too large to store"))
		return 0.0, 0.0
	return forecast, base


def compute_amounts(doc, rules: frappe._dict | None = None):
	"""Set currency, exchange rate, base amount and (when the rule is on) the forecast of a document."""
	rules = rules or amount_rules()
	default_currency = rules.default_currency
	if not doc.currency:
		doc.currency = default_currency
	if doc.currency == default_currency:
		doc.exchange_rate = 1
	elif flt(doc.exchange_rate) <= 0:
		frappe.throw(
			_(
				"Exchange Rate must be greater than 0 for an amount in {0} (the default currency is {1})."
			).format(doc.currency, default_currency),
			exc=ExchangeRateError,
		)
	doc.base_amount = _round(flt(doc.amount) * flt(doc.exchange_rate), rules.precision, rules.rounding)
	if rules.formula:
		doc.forecast_amount, doc.base_forecast_amount = forecast_values(
			doc, rules.formula, rules.precision, rules.rounding
		)


def preview(values: Mapping) -> frappe._dict:
	"""What a save of the unsaved `values` would give: the probability (a closed stage's certainty) and,
	when the forecast rule is on, the forecast amount — for the form to show as a person types."""
	from opportunity_suite.services.stages import CLOSED_PROBABILITY, get_stage

	settings = get_settings()
	row = frappe._dict({field: flt(values.get(field)) for field in formula_fields()})
	row.exchange_rate = flt(values.get("exchange_rate")) or 1.0
	stage = get_stage(values.get("sales_stage") or "")
	if stage and stage.stage_type in CLOSED_PROBABILITY:
		row.probability = CLOSED_PROBABILITY[stage.stage_type]
	result = frappe._dict(enabled=settings.enabled, probability=row.probability)
	if settings.enabled:
		rules = amount_rules()
		result.forecast_amount, result.base_forecast_amount = forecast_values(
			row, rules.formula, rules.precision, rules.rounding
		)
	return result


__all__ = ["FormulaError"]
