"""The values a caller sent, checked before anything computes with them (REST, desk and importer alike).

Frappe turns what it cannot read into 0 (`flt("abc")`, `flt("50%")`), lets NaN and infinities through,
and leaves a date like 2024-02-30, a number too large for its column, a NUL byte or a lone UTF-16
surrogate to MariaDB, which answers with an error (HTTP 500) or stores something else. `check_values`
refuses each of them with a message naming the field (and the row), and stores numbers as the forecast
formula reads them (`formula.parse_number`, Frappe's `flt` reading: "1,000.50" is 1000.5) and dates in ISO
form, so that the formula, the base amounts and the database all see the same value."""

import datetime
import math
import re

import frappe
from frappe import _
from frappe.utils import escape_html

from opportunity_suite.services.formula import parse_number

# Frappe stores Currency, Float and Percent as decimal(21, 9): 12 digits before the point
DECIMAL_LIMIT = 10**12
INT_LIMIT = 2**31  # Int is int(11)
DECIMAL_TYPES = frozenset({"Currency", "Float", "Percent"})
DATE_TYPES = frozenset({"Date", "Datetime"})
TABLE_TYPES = frozenset({"Table", "Table MultiSelect"})
# a NUL byte, or half of a UTF-16 surrogate pair: MariaDB's utf8mb4 can't hold either
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
NON_NEGATIVE_LINE_FIELDS = ("qty",)


class FieldValueError(frappe.ValidationError):
	pass


def check_values(doc):
	"""Refuse (FieldValueError, naming the field) a value of `doc` or of its rows that its field can't
	hold, and set numbers and dates to what will be stored. Call it first in `validate`."""
	_check_document(doc, _("{0}: {1}"), None)
	for df in doc.meta.get_table_fields():
		for row in doc.get(df.fieldname) or []:
			prefix = _("Row {0} of {1}").format(row.idx, _(df.label))
			_check_document(row, prefix + ": {0}: {1}", df)
	_check_products(doc)
	if doc.meta.get_field("assigned_to"):
		before = doc.get_doc_before_save() if not doc.is_new() else None
		if before is None or before.get("assigned_to") != doc.get("assigned_to"):
			# newly chosen only: a record assigned to a user disabled since stays editable
			check_assignee(doc.get("assigned_to"), doc.meta.get_label("assigned_to"))


def _refuse(pattern: str, label: str, problem: str):
	frappe.throw(pattern.format(frappe.bold(label), problem), exc=FieldValueError, title=_("Invalid Value"))


def _check_document(doc, pattern: str, table_field):
	for df in doc.meta.fields:
		if df.fieldtype in TABLE_TYPES:
			continue
		value = doc.get(df.fieldname)
		if value is None or value == "":
			continue
		label = _(df.label or df.fieldname)
		if isinstance(value, dict | list | tuple | set):
			_refuse(pattern, label, _("expected a single value, not a list or an object."))
		if isinstance(value, str) and UNSTORABLE.search(value):
			_refuse(
				pattern,
				label,
				_("contains a character that cannot be stored (a NUL byte or a lone surrogate)."),
			)
		if df.fieldtype in DECIMAL_TYPES or df.fieldtype == "Int":
			doc.set(df.fieldname, _number(value, df, pattern, label))
		elif df.fieldtype in DATE_TYPES:
			doc.set(df.fieldname, _date(value, df.fieldtype, pattern, label))
	if table_field is not None and table_field.options == "Line Item":
		for fieldname in NON_NEGATIVE_LINE_FIELDS:
			if (doc.get(fieldname) or 0) < 0:
				_refuse(pattern, _(doc.meta.get_label(fieldname)), _("must not be negative."))


def _shown(value) -> str:
	return escape_html(str(value)[:40])


def _number(value, df, pattern: str, label: str) -> float | int:
	number = parse_number(value)
	if number is None:
		_refuse(pattern, label, _("{0} is not a number.").format(frappe.bold(_shown(value))))
	if not math.isfinite(number):
		_refuse(pattern, label, _("{0} is not a finite number.").format(frappe.bold(_shown(value))))
	limit = INT_LIMIT if df.fieldtype == "Int" else DECIMAL_LIMIT
	if abs(number) >= limit:
		_refuse(pattern, label, _("{0} is too large (it must be below {1}).").format(_shown(value), limit))
	if df.fieldtype == "Int":
		if number != int(number):
			_refuse(pattern, label, _("{0} is not a whole number.").format(frappe.bold(_shown(value))))
		return int(number)
	return number


def _date(value, fieldtype: str, pattern: str, label: str):
	if isinstance(value, datetime.datetime):
		return value if fieldtype == "Datetime" else value.date()
	if isinstance(value, datetime.date):
		return value
	text = str(value).strip()
	try:
		if fieldtype == "Date":
			# a date, or the date of a timestamp ("2024-06-30 00:00:00"): YYYY-MM-DD only
			if len(text) < 10 or (len(text) > 10 and text[10] not in " T"):
				raise ValueError
			parsed = datetime.date.fromisoformat(text[:10])
			if len(text) > 10:
				datetime.datetime.fromisoformat(text)
			return parsed.isoformat()
		return datetime.datetime.fromisoformat(text)
	except ValueError:
		expected = "YYYY-MM-DD" if fieldtype == "Date" else "YYYY-MM-DD HH:MM:SS"
		_refuse(
			pattern,
			label,
			_("{0} is not a valid date ({1}).").format(frappe.bold(_shown(value)), expected),
		)


def _check_products(doc):
	"""Amounts computed from the values (base amount, line amounts) must fit their columns too."""
	rate = doc.get("exchange_rate") or 1
	if abs((doc.get("amount") or 0) * rate) >= DECIMAL_LIMIT:
		_refuse(
			_("{0}: {1}"),
			_(doc.meta.get_label("amount")),
			_("the amount in the default currency (Amount × Exchange Rate) is too large."),
		)
	for row in doc.get("items") or []:
		if abs((row.get("qty") or 0) * (row.get("rate") or 0)) >= DECIMAL_LIMIT:
			_refuse(
				_("Row {0} of {1}").format(row.idx, _(doc.meta.get_label("items"))) + ": {0}: {1}",
				_("Amount"),
				_("Quantity × Rate is too large."),
			)


def check_assignee(user: str | None, label: str):
	"""Only an enabled desk user (System User) can be assigned a record."""
	if not user:
		return
	row = frappe.db.get_value("User", user, ["user_type", "enabled"], as_dict=True)
	if not row:
		return  # a user that doesn't exist: Frappe's link check names it
	if row.user_type != "System User" or not row.enabled:
		_refuse(
			_("{0}: {1}"),
			_(label),
			_("{0} is not an active desk user and can't be assigned.").format(frappe.bold(_shown(user))),
		)
