"""Formula neutralisation for every CSV/XLSX that carries the app's data.

Frappe has four export paths and neutralises nothing: a text cell starting with = + - @, a tab or a
carriage return is run as a formula by Excel and LibreOffice. hooks.py points the four whitelisted
methods at the wrappers in `opportunity_suite.api.exporting`, which call Frappe's own method inside
`neutralised_exports()` when (and only when) the export carries one of the app's DocTypes or reports;
every other DocType goes to Frappe untouched.

While the context is active, the writers the four paths share (`frappe.desk.utils.get_csv_bytes`,
`frappe.utils.xlsxutils.make_xlsx` and `frappe.utils.csvutils.UnicodeWriter.writerow`) prefix such text
cells with one `'`. Numbers, dates and text that is a plain number stay as they are. make_xlsx turns HTML
into text and drops control characters before it writes: its cells are neutralised as it will write them
(`<p>=1+1</p>` and `\x01=1+1` are written `'=1+1`). The shims are
installed once and look at a request-local flag, so concurrent requests never see each other's state.
Opportunity Import strips exactly that one prefix (`strip_neutralisation`), so export → import
round-trips."""

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import frappe

APP = "opportunity_suite"
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
PREFIX = "'"
FLAG = "opportunity_suite_neutralise_exports"
# text that is only a number (e.g. "-5", "+1.5e3") is not a formula: Excel reads it as that number
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
# what a spreadsheet or Frappe's make_xlsx may drop in front of a formula: whitespace, control characters
_LEADING_NOISE = re.compile(r"^[\s\x00-\x1f\x7f]+")
# make_xlsx keeps the HTML of these sheets (frappe/utils/xlsxutils.py)
_HTML_KEPT_SHEETS = ("Data Import Template", "Data Export")


def looks_like_formula(text) -> bool:
	"""Text a spreadsheet could run: starting with a formula trigger, also after leading whitespace or
	control characters; a plain number is not a formula."""
	if not isinstance(text, str) or not text:
		return False
	if text.startswith(FORMULA_TRIGGERS) and not _PLAIN_NUMBER.fullmatch(text):
		return True
	head = _LEADING_NOISE.sub("", text)
	return head != text and head.startswith(FORMULA_TRIGGERS[:4]) and not _PLAIN_NUMBER.fullmatch(head)


def neutralise_cell(value):
	"""The value to write to a CSV cell (any CSV writer: the export shims, the import's failed-rows
	file): text a spreadsheet could run as a formula gets a `'` prefix; anything else is returned as is."""
	if looks_like_formula(value):
		return PREFIX + value
	return value


neutralise_value = neutralise_cell  # its former name


def xlsx_written_value(value, sheet_name: str):
	"""What Frappe's make_xlsx writes for `value` on `sheet_name`: HTML turned into text (except on the
	Data Import Template and Data Export sheets), then the characters XLSX can't hold removed."""
	from frappe.utils import xlsxutils

	if not isinstance(value, str):
		return value
	if sheet_name not in _HTML_KEPT_SHEETS:
		value = xlsxutils.handle_html(value)
	return xlsxutils.ILLEGAL_CHARACTERS_RE.sub("", value)


def neutralise_xlsx_cell(value, sheet_name: str):
	"""The value to hand to make_xlsx so that what it writes is neutralised: the value as make_xlsx will
	write it, neutralised, and found unchanged by make_xlsx's own cleaning (HTML inside HTML is taken
	apart in turns; text that never settles loses its angle brackets)."""
	if not isinstance(value, str):
		return value
	candidate = value
	for _turn in range(5):
		safe = neutralise_cell(xlsx_written_value(candidate, sheet_name))
		if xlsx_written_value(safe, sheet_name) == safe:
			return safe
		candidate = safe
	text = xlsx_written_value(candidate, sheet_name).replace("<", "\u2039").replace(">", "\u203a")
	return neutralise_cell(text)


def neutralise_row(row: Iterable) -> list:
	return [neutralise_value(value) for value in row]


def neutralise_rows(rows: Iterable[Iterable]) -> Iterator[list]:
	for row in rows:
		yield neutralise_row(row)


def strip_neutralisation(value: str) -> str:
	"""Undo exactly the prefix `neutralise_cell` adds (used by Opportunity Import)."""
	if isinstance(value, str) and value[:1] == PREFIX and looks_like_formula(value[1:]):
		return value[1:]
	return value


def is_active() -> bool:
	return bool(frappe.flags.get(FLAG))


@contextmanager
def neutralised_exports(applies: bool = True):
	"""Neutralise formulas in whatever Frappe's export writers produce inside this block, when `applies`
	(the export carries the app's data); otherwise the block runs untouched."""
	if not applies:
		yield
		return
	_install_shims()
	previous = frappe.flags.get(FLAG)
	frappe.flags[FLAG] = True
	try:
		yield
	finally:
		frappe.flags[FLAG] = previous


# ---------------------------------------------------------------- which exports are the app's


def app_doctypes() -> frozenset[str]:
	"""The DocTypes of the app's modules (child tables included), cached per request."""
	cached = getattr(frappe.local, "opportunity_suite_app_doctypes", None)
	if cached is None:
		modules = frappe.get_module_list(APP)
		cached = frozenset(frappe.get_all("DocType", filters={"module": ("in", modules)}, pluck="name"))
		frappe.local.opportunity_suite_app_doctypes = cached
	return cached


def is_app_doctype(doctype) -> bool:
	if isinstance(doctype, list | tuple):
		return any(is_app_doctype(d) for d in doctype)
	return isinstance(doctype, str) and doctype in app_doctypes()


def is_app_report(report_name: str | None) -> bool:
	"""A report of the app's modules, or any report over one of the app's DocTypes."""
	if not report_name:
		return False
	values = frappe.db.get_value("Report", report_name, ["module", "ref_doctype"], as_dict=True)
	if not values:
		return False
	return values.module in frappe.get_module_list(APP) or is_app_doctype(values.ref_doctype)


# ---------------------------------------------------------------- the shims


def _install_shims():
	"""Wrap Frappe's shared export writers once per process; each wrapper checks the request flag."""
	import frappe.desk.utils as desk_utils
	import frappe.utils.csvutils as csvutils
	import frappe.utils.xlsxutils as xlsxutils

	if getattr(desk_utils.get_csv_bytes, "_opportunity_suite", False):
		return

	original_csv_bytes = desk_utils.get_csv_bytes
	original_make_xlsx = xlsxutils.make_xlsx
	original_writerow = csvutils.UnicodeWriter.writerow

	def get_csv_bytes(data, csv_params):
		if is_active():
			data = list(neutralise_rows(data))
		return original_csv_bytes(data, csv_params)

	def make_xlsx(data, sheet_name, wb=None, column_widths=None):
		if is_active():
			data = ([neutralise_xlsx_cell(value, sheet_name) for value in row] for row in data)
		return original_make_xlsx(data, sheet_name, wb=wb, column_widths=column_widths)

	def writerow(self, row):
		if is_active():
			row = neutralise_row(row)
		return original_writerow(self, row)

	for shim in (get_csv_bytes, make_xlsx, writerow):
		shim._opportunity_suite = True
	desk_utils.get_csv_bytes = get_csv_bytes
	xlsxutils.make_xlsx = make_xlsx
	csvutils.UnicodeWriter.writerow = writerow
