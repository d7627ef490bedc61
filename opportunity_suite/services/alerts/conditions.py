"""Alert rule conditions: rows of (field, operator, value[, value2]) evaluated by this module alone.

No eval, no safe_eval, no evaluate_filters: each operator is a Python function below. Values typed in a
rule are text; they are read according to the field's type (numbers, dates, text). Text comparisons ignore
case, as MariaDB's collation does. An operator this module doesn't know is an error, never a False."""

import datetime
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import frappe
from frappe import _
from frappe.utils import add_days, flt, getdate, today

from opportunity_suite.services.alerts.errors import (
	InvalidConditionValueError,
	UnknownFieldError,
	UnknownOperatorError,
)
from opportunity_suite.services.alerts.fields import FieldInfo, get_field

ALL_KINDS = frozenset({"number", "date", "datetime", "text"})
ORDERED_KINDS = frozenset({"number", "date", "datetime"})
DATE_KINDS = frozenset({"date", "datetime"})


@dataclass(frozen=True)
class OperatorSpec:
	kinds: frozenset  # field kinds the operator applies to
	needs_value: bool = True
	needs_value2: bool = False
	value_is_list: bool = False
	value_is_days: bool = False
	is_change: bool = False  # compares the record before and after the save


OPERATORS: dict[str, OperatorSpec] = {
	"Equals": OperatorSpec(ALL_KINDS),
	"Not Equals": OperatorSpec(ALL_KINDS),
	"Greater Than": OperatorSpec(ORDERED_KINDS),
	"Greater Than Or Equal": OperatorSpec(ORDERED_KINDS),
	"Less Than": OperatorSpec(ORDERED_KINDS),
	"Less Than Or Equal": OperatorSpec(ORDERED_KINDS),
	"Contains": OperatorSpec(frozenset({"text"})),
	"Does Not Contain": OperatorSpec(frozenset({"text"})),
	"Starts With": OperatorSpec(frozenset({"text"})),
	"Ends With": OperatorSpec(frozenset({"text"})),
	"Is Empty": OperatorSpec(ALL_KINDS, needs_value=False),
	"Is Not Empty": OperatorSpec(ALL_KINDS, needs_value=False),
	"In": OperatorSpec(ALL_KINDS, value_is_list=True),
	"Not In": OperatorSpec(ALL_KINDS, value_is_list=True),
	"Before": OperatorSpec(DATE_KINDS),
	"After": OperatorSpec(DATE_KINDS),
	"Between": OperatorSpec(ORDERED_KINDS, needs_value2=True),
	"Within Next Days": OperatorSpec(DATE_KINDS, value_is_days=True),
	"Within Last Days": OperatorSpec(DATE_KINDS, value_is_days=True),
	"Has Changed": OperatorSpec(ALL_KINDS, needs_value=False, is_change=True),
	"Has Changed To": OperatorSpec(ALL_KINDS, is_change=True),
	"Has Changed From": OperatorSpec(ALL_KINDS, is_change=True),
}
CHANGE_OPERATORS = frozenset(name for name, spec in OPERATORS.items() if spec.is_change)


@dataclass(frozen=True)
class Condition:
	fieldname: str
	operator: str
	value: str = ""
	value2: str = ""


def get_operator(operator: str) -> OperatorSpec:
	spec = OPERATORS.get(operator)
	if spec is None:
		frappe.throw(
			_("Unknown operator {0}. Known operators: {1}.").format(
				frappe.bold(operator or "?"), ", ".join(OPERATORS)
			),
			exc=UnknownOperatorError,
			title=_("Unknown Operator"),
		)
	return spec


# ---------------------------------------------------------------- reading values


def _split_list(raw: str) -> list[str]:
	return [part.strip() for part in (raw or "").replace("\n", ",").split(",") if part.strip()]


SELECT_CHECKED_OPERATORS = frozenset(
	{"Equals", "Not Equals", "In", "Not In", "Has Changed To", "Has Changed From"}
)


def _invalid_value(field: FieldInfo, raw: str):
	expected = {
		"number": _("a number, e.g. 10000"),
		"date": _("a date as YYYY-MM-DD, or today"),
		"datetime": _("a date as YYYY-MM-DD (optionally with HH:MM:SS), or today"),
	}[field.kind]
	frappe.throw(
		_("{0} is not a valid value for {1}: expected {2}.").format(
			frappe.bold(raw or "?"), _(field.label), expected
		),
		exc=InvalidConditionValueError,
		title=_("Invalid Value"),
	)


def parse_value(field: FieldInfo, raw, operator: str = "Equals"):
	"""A value typed in a rule, read as the field's type; raises InvalidConditionValueError."""
	raw = "" if raw is None else str(raw).strip()
	kind = field.kind
	if kind == "number":
		try:
			return float(raw) if raw else 0.0
		except ValueError:
			_invalid_value(field, raw)
	if kind in DATE_KINDS:
		if raw.lower() == "today":
			return getdate(today())
		try:
			if kind == "datetime" and len(raw) > 10:
				return datetime.datetime.fromisoformat(raw)
			return datetime.date.fromisoformat(raw)
		except ValueError:
			_invalid_value(field, raw)
	options = field.select_options
	if options and raw and raw not in options and operator in SELECT_CHECKED_OPERATORS:
		frappe.throw(
			_("{0} is not one of the options of {1}: {2}.").format(
				frappe.bold(raw), _(field.label), ", ".join(options)
			),
			exc=InvalidConditionValueError,
			title=_("Invalid Value"),
		)
	return raw


def parse_days(field: FieldInfo, raw) -> int:
	raw = "" if raw is None else str(raw).strip()
	if not raw.isdigit():
		frappe.throw(
			_("{0} is not a valid number of days for {1}: expected a whole number, e.g. 7.").format(
				frappe.bold(raw or "?"), _(field.label)
			),
			exc=InvalidConditionValueError,
			title=_("Invalid Value"),
		)
	return int(raw)


def normalize(field: FieldInfo, value):
	"""A record's value in the form the operators compare: float, date/datetime or case-folded text."""
	kind = field.kind
	if kind == "number":
		return flt(value)
	if kind in DATE_KINDS:
		return _record_date(value, kind)
	if value is None:
		return ""
	if isinstance(value, datetime.timedelta | datetime.time):
		return str(value)
	return str(value).casefold()


def _record_date(value, kind: str):
	"""A record's date or datetime; a value that is none (empty, or text that is no ISO date: a record
	saved past validation) counts as empty rather than failing the rule."""
	if not value:
		return None
	if isinstance(value, datetime.datetime):
		return value if kind == "datetime" else value.date()
	if isinstance(value, datetime.date):
		return value if kind == "date" else datetime.datetime.combine(value, datetime.time())
	try:
		parsed = datetime.datetime.fromisoformat(str(value).strip())
	except ValueError:
		return None
	return parsed if kind == "datetime" else parsed.date()


def _typed(field: FieldInfo, raw, operator: str):
	value = parse_value(field, raw, operator)
	return value.casefold() if isinstance(value, str) else value


def _comparable(field: FieldInfo, actual, expected):
	"""Line up a datetime field with a date-only value (compare the date part)."""
	if field.kind == "datetime" and actual is not None:
		if isinstance(expected, datetime.date) and not isinstance(expected, datetime.datetime):
			return actual.date(), expected
	return actual, expected


def _is_empty(field: FieldInfo, value) -> bool:
	if field.kind == "number":
		return value is None or value == ""
	if isinstance(value, list | tuple):
		return not value
	return value is None or str(value).strip() == ""


def _ordered(compare: Callable) -> Callable:
	def check(field, actual, expected):
		actual, expected = _comparable(field, actual, expected)
		if actual is None or expected is None:
			return False
		return compare(actual, expected)

	return check


_COMPARISONS = {
	"Greater Than": _ordered(lambda a, b: a > b),
	"Greater Than Or Equal": _ordered(lambda a, b: a >= b),
	"Less Than": _ordered(lambda a, b: a < b),
	"Less Than Or Equal": _ordered(lambda a, b: a <= b),
	"Before": _ordered(lambda a, b: a < b),
	"After": _ordered(lambda a, b: a > b),
}


def _equals(field: FieldInfo, actual, expected) -> bool:
	actual, expected = _comparable(field, actual, expected)
	return actual == expected


def evaluate_condition(
	condition: Condition, values: Mapping, before: Mapping | None, doctype: str, meta=None
) -> bool:
	"""True when the condition holds for the record `values` (before the save: `before`, None when the
	record is new: then every non-empty value "has changed" from empty)."""
	spec = get_operator(condition.operator)
	field = get_field(doctype, condition.fieldname, meta)
	if field is None or field.kind not in ALL_KINDS:
		frappe.throw(
			_("Field {0} does not exist on {1} (any more).").format(
				frappe.bold(condition.fieldname), _(doctype)
			),
			exc=UnknownFieldError,
			title=_("Unknown Field"),
		)
	op = condition.operator
	actual = normalize(field, values.get(field.fieldname))

	if spec.is_change:
		previous = normalize(field, before.get(field.fieldname) if before is not None else None)
		changed = previous != actual
		if op == "Has Changed":
			return changed
		expected = _typed(field, condition.value, op)
		if op == "Has Changed To":
			return changed and _equals(field, actual, expected)
		return changed and _equals(field, previous, expected)  # Has Changed From

	if op == "Is Empty":
		return _is_empty(field, values.get(field.fieldname))
	if op == "Is Not Empty":
		return not _is_empty(field, values.get(field.fieldname))
	if op in ("In", "Not In"):
		options = [_typed(field, part, op) for part in _split_list(condition.value)]
		found = any(_equals(field, actual, option) for option in options)
		return found if op == "In" else not found
	if op in ("Within Next Days", "Within Last Days"):
		days = parse_days(field, condition.value)
		if actual is None:
			return False
		day = actual.date() if isinstance(actual, datetime.datetime) else actual
		start, end = getdate(today()), getdate(add_days(today(), days))
		if op == "Within Last Days":
			start, end = getdate(add_days(today(), -days)), getdate(today())
		return start <= day <= end
	if op == "Between":
		low, high = _typed(field, condition.value, op), _typed(field, condition.value2, op)
		a_low, low = _comparable(field, actual, low)
		a_high, high = _comparable(field, actual, high)
		if a_low is None:
			return False
		return low <= a_low and a_high <= high

	expected = _typed(field, condition.value, op)
	if op == "Equals":
		return _equals(field, actual, expected)
	if op == "Not Equals":
		return not _equals(field, actual, expected)
	if op in _COMPARISONS:
		return _COMPARISONS[op](field, actual, expected)
	text, needle = str(actual), str(expected)
	if op == "Contains":
		return needle in text
	if op == "Does Not Contain":
		return needle not in text
	if op == "Starts With":
		return text.startswith(needle)
	if op == "Ends With":
		return text.endswith(needle)
	# an operator listed in OPERATORS but not implemented above: a programming error, never a silent False
	frappe.throw(_("Operator {0} is not implemented.").format(op), exc=UnknownOperatorError)


def evaluate(
	conditions: Iterable[Condition],
	match: str,
	values: Mapping,
	before: Mapping | None,
	doctype: str,
	meta=None,
) -> bool:
	"""All (default) or Any of the conditions; no conditions at all: True. Every operator is checked
	before any is evaluated, so an unknown one fails even where All/Any would stop early."""
	conditions = list(conditions)
	for condition in conditions:
		get_operator(condition.operator)
	if match not in ("All", "Any", "", None):
		frappe.throw(_("Match must be All or Any, not {0}.").format(match), exc=UnknownOperatorError)
	if not conditions:
		return True
	meta = meta or frappe.get_meta(doctype)
	results = (evaluate_condition(c, values, before, doctype, meta) for c in conditions)
	return any(results) if match == "Any" else all(results)


def validate_condition(doctype: str, condition: Condition, scheduled: bool):
	"""Refuse, with a clear message, a condition that could never work: unknown field or operator, an
	operator that doesn't apply to the field's type, a value that doesn't fit it, a change operator on a
	scheduled rule."""
	from opportunity_suite.services.alerts.fields import require_field

	field = require_field(doctype, condition.fieldname)
	if field.kind not in ALL_KINDS:
		frappe.throw(
			_("Conditions can't use {0} ({1} fields are not supported).").format(
				_(field.label), field.fieldtype
			),
			exc=InvalidConditionValueError,
			title=_("Unsupported Field"),
		)
	spec = get_operator(condition.operator)
	if field.kind not in spec.kinds:
		frappe.throw(
			_("Operator {0} doesn't apply to {1}, a {2} field.").format(
				frappe.bold(condition.operator), _(field.label), field.fieldtype
			),
			exc=InvalidConditionValueError,
			title=_("Invalid Operator"),
		)
	if spec.is_change and scheduled:
		frappe.throw(
			_(
				"Operator {0} compares a record before and after a save, so a scheduled rule can't use it."
			).format(frappe.bold(condition.operator)),
			exc=InvalidConditionValueError,
			title=_("Invalid Operator"),
		)
	if spec.value_is_days:
		parse_days(field, condition.value)
	elif spec.value_is_list:
		parts = _split_list(condition.value)
		if not parts:
			frappe.throw(
				_("Operator {0} on {1} needs a list of values separated by commas.").format(
					condition.operator, _(field.label)
				),
				exc=InvalidConditionValueError,
				title=_("Missing Value"),
			)
		for part in parts:
			_check_fits(field, part, condition.operator)
	elif spec.needs_value:
		if str(condition.value or "").strip() == "" and field.kind != "text":
			frappe.throw(
				_("Operator {0} on {1} needs a value.").format(condition.operator, _(field.label)),
				exc=InvalidConditionValueError,
				title=_("Missing Value"),
			)
		_check_fits(field, condition.value, condition.operator)
		if spec.needs_value2:
			if str(condition.value2 or "").strip() == "":
				frappe.throw(
					_("Between on {0} needs a second value.").format(_(field.label)),
					exc=InvalidConditionValueError,
					title=_("Missing Value"),
				)
			parse_value(field, condition.value2, condition.operator)


def _check_fits(field: FieldInfo, raw, operator: str):
	"""parse_value, and at save also: a Check is 0 or 1, a Link names an existing record."""
	value = parse_value(field, raw, operator)
	if field.fieldtype == "Check" and value not in (0, 1):
		frappe.throw(
			_("{0} is a checkbox: use 1 (checked) or 0.").format(_(field.label)),
			exc=InvalidConditionValueError,
			title=_("Invalid Value"),
		)
	if (
		field.fieldtype == "Link"
		and field.options
		and value
		and operator in SELECT_CHECKED_OPERATORS
		and not frappe.db.exists(field.options, value)
	):
		frappe.throw(
			_("{0} {1} does not exist.").format(_(field.options), frappe.bold(value)),
			exc=InvalidConditionValueError,
			title=_("Invalid Value"),
		)


def conditions_from_rows(rows: Iterable) -> list[Condition]:
	return [
		Condition(
			(row.get("fieldname") or "").strip(),
			row.get("operator") or "",
			"" if row.get("value") is None else str(row.get("value")),
			"" if row.get("value2") is None else str(row.get("value2")),
		)
		for row in rows
	]
