"""Forecast Amount = the settings' formula over an opportunity (default amount × probability / 100).

One place computes it: `compute_amounts` for a document being saved, `forecast_values` for a plain row
(the bulk recompute and the importer use the same function), so every path gives the same numbers."""

from collections.abc import Iterable, Mapping

import frappe
from frappe import _
from frappe.utils import flt, now_datetime

from opportunity_suite.services.formula import CompiledFormula, FormulaError, compile_formula

DOCTYPE = "Opportunity"
SETTINGS = "Opportunity Settings"
DEFAULT_FORMULA = "amount * probability / 100"
NUMERIC_FIELDTYPES = ("Currency", "Float", "Int", "Percent")
# fields the formula computes, or that follow from it: never inputs of the formula
DERIVED_FIELDS = frozenset({"forecast_amount", "base_forecast_amount", "base_amount"})
RECOMPUTE_JOB_ID = "opportunity_suite:recompute_forecasts"
RECOMPUTE_BATCH_SIZE = 5000
MAX_DEADLOCK_RETRIES = 5


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
			formula=get_compiled_formula(settings.formula) if settings.enabled else None,
			precision=currency_precision(),
			rounding=_rounding_method(),
		)
	return cache["rules"]


def forecast_values(
	row: Mapping, formula: CompiledFormula, precision: int, rounding: str | None = None
) -> tuple[float, float]:
	"""(forecast_amount, base_forecast_amount) for one opportunity given as a plain mapping."""
	rounding = rounding or _rounding_method()
	forecast = _round(formula.evaluate(row), precision, rounding)
	rate = flt(row.get("exchange_rate")) or 1.0
	return forecast, _round(forecast * rate, precision, rounding)


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


# ---------------------------------------------------------------- bulk recompute


def enqueue_recompute() -> str:
	"""Recompute every opportunity's forecast in the background (one job at a time)."""
	frappe.enqueue(
		"opportunity_suite.services.forecast.recompute_all_forecasts",
		queue="long",
		job_id=RECOMPUTE_JOB_ID,
		deduplicate=True,
		enqueue_after_commit=True,
		timeout=3 * 3600,
	)
	return RECOMPUTE_JOB_ID


def _read_batch(fields: Iterable[str], after: str, batch_size: int) -> list[frappe._dict]:
	"""The next opportunities in name order after `after` (keyset pagination: no OFFSET)."""
	table = frappe.qb.DocType(DOCTYPE)
	columns = [
		table.name,
		table.modified,
		table.exchange_rate,
		table.forecast_amount,
		table.base_forecast_amount,
	]
	columns += [table[f] for f in sorted(set(fields) - {"exchange_rate"})]
	return (
		frappe.qb.from_(table)
		.select(*columns)
		.where(table.name > after)
		.orderby(table.name)
		.limit(batch_size)
		.run(as_dict=True)
	)


def _write_batch(changes: list[tuple[str, str, float, float]]) -> int:
	"""One UPDATE for the whole batch: the new values travel as one JSON document joined on name.

	A row saved by a user since it was read (its `modified` moved) is left alone: that save computed
	its forecast with the current formula already. Raw SQL because frappe.qb has no JSON_TABLE; the
	only value is a bound parameter. Returns the number of rows written."""
	if not changes:
		return 0
	frappe.db.sql(
		"""
		UPDATE `tabOpportunity` o
		JOIN JSON_TABLE(%(rows)s, '$[*]' COLUMNS (
			n VARCHAR(140) PATH '$[0]',
			m DATETIME(6) PATH '$[1]',
			f DECIMAL(21, 9) PATH '$[2]',
			b DECIMAL(21, 9) PATH '$[3]'
		)) v ON o.name = v.n COLLATE utf8mb4_unicode_ci AND o.modified = v.m
		SET o.forecast_amount = v.f, o.base_forecast_amount = v.b
		""",
		{"rows": frappe.as_json(changes, indent=None)},
	)
	return frappe.db._cursor.rowcount


def recompute_all_forecasts(batch_size: int = RECOMPUTE_BATCH_SIZE, publish: bool = True) -> int:
	"""Recompute every opportunity's forecast with the current formula, a batch per transaction.

	Writes only rows whose values change, with one set-based UPDATE per batch, and commits per batch;
	a batch that meets a deadlock with a user's save is read and written again. `modified` is not
	touched: a recompute is not an edit, and fires no alert. If the formula changes while it runs, it
	starts again with the new one. Returns the number of rows updated."""
	updated = 0
	try:
		while True:
			clear_settings_cache()
			settings = get_settings()
			if not settings.enabled:
				return updated
			formula = get_compiled_formula(settings.formula)
			precision, rounding = currency_precision(), _rounding_method()
			total = frappe.db.count(DOCTYPE) or 1
			done, last, deadlocks = 0, "", 0
			while rows := _read_batch(formula.fields, last, batch_size):
				changes = []
				for row in rows:
					forecast, base = forecast_values(row, formula, precision, rounding)
					if forecast != flt(row.forecast_amount) or base != flt(row.base_forecast_amount):
						changes.append((row.name, str(row.modified), forecast, base))
				try:
					updated += _write_batch(changes)
					frappe.db.commit()
				except frappe.QueryDeadlockError:
					frappe.db.rollback()
					deadlocks += 1
					if deadlocks > MAX_DEADLOCK_RETRIES:
						raise
					continue  # the same batch, read again
				last = rows[-1].name
				done += len(rows)
				if publish:
					frappe.publish_progress(
						min(100, done * 100 / total),
						title=_("Recomputing forecast amounts"),
						doctype=SETTINGS,
						docname=SETTINGS,
						description=_("{0} of {1} opportunities").format(done, total),
					)
			clear_settings_cache()
			if get_settings().formula == settings.formula:
				break
		_record_recompute(_("Completed"), updated)
		return updated
	except Exception:
		frappe.db.rollback()
		frappe.log_error(title=_("Forecast recompute failed"))
		_record_recompute(_("Failed: see the Error Log"), updated)
		raise


def _record_recompute(status: str, rows: int):
	frappe.db.set_single_value(
		SETTINGS,
		{"last_recompute_status": status, "last_recompute_on": now_datetime(), "last_recompute_rows": rows},
		update_modified=False,
	)
	frappe.db.commit()


__all__ = ["FormulaError"]
