"""Formula neutralisation for every CSV/XLSX that carries the app's data.

Frappe has four export paths and neutralises nothing: a text cell starting with = + - @, a tab or a
carriage return is run as a formula by Excel and LibreOffice. hooks.py points the four whitelisted
methods at the wrappers in `opportunity_suite.api.exporting`, which call Frappe's own method inside
`neutralised_exports()` when (and only when) the export carries one of the app's DocTypes or reports;
every other DocType goes to Frappe untouched.

While the context is active, the writers the four paths share (`frappe.desk.utils.get_csv_bytes`,
`frappe.utils.xlsxutils.make_xlsx` and `frappe.utils.csvutils.UnicodeWriter.writerow`) prefix such text
cells with one `'`. Numbers, dates and text that is a plain number stay as they are. The shims are
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


def neutralise_value(value):
	"""The cell value to write: text starting with a formula trigger gets a `'` prefix."""
	if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS) and not _PLAIN_NUMBER.fullmatch(value):
		return PREFIX + value
	return value


def neutralise_row(row: Iterable) -> list:
	return [neutralise_value(value) for value in row]


def neutralise_rows(rows: Iterable[Iterable]) -> Iterator[list]:
	for row in rows:
		yield neutralise_row(row)


def strip_neutralisation(value: str) -> str:
	"""Undo exactly the prefix `neutralise_value` adds (used by Opportunity Import)."""
	if (
		isinstance(value, str)
		and len(value) > 1
		and value[0] == PREFIX
		and value[1:].startswith(FORMULA_TRIGGERS)
		and not _PLAIN_NUMBER.fullmatch(value[1:])
	):
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
			data = neutralise_rows(data)
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
