"""XLSX: the first sheet (or the one named), read with openpyxl in read-only mode. A row's cells keep
their columns, so a row may be shorter than the header; a cell formatted as a percentage is a
`PercentCell`."""

import datetime
from collections.abc import Iterator

import frappe
from frappe import _

from opportunity_suite.services.importing import values
from opportunity_suite.services.importing.formats.base import FileFormat, ImportFileError


def _cell(value):
	if isinstance(value, datetime.datetime):
		return value.date() if value.time() == datetime.time() else value
	return value


def _xlsx_cell(cell):
	"""A cell's value; a number formatted as a percentage (shown 25 %, stored 0.25) as a PercentCell."""
	value = cell.value
	if type(value) in (int, float) and "%" in (getattr(cell, "number_format", None) or ""):
		return values.PercentCell(value)
	return _cell(value)


def iter_xlsx(path: str, sheet_name: str | None = None) -> Iterator[tuple[int, list]]:
	import openpyxl

	try:
		workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
	except Exception as e:
		frappe.throw(_("The file is not a readable XLSX workbook: {0}").format(e), exc=ImportFileError)
	try:
		if sheet_name:
			if sheet_name not in workbook.sheetnames:
				frappe.throw(
					_("The workbook has no sheet {0} (it has: {1}).").format(
						sheet_name, ", ".join(workbook.sheetnames)
					),
					exc=ImportFileError,
				)
			sheet = workbook[sheet_name]
		else:
			sheet = workbook.worksheets[0]
		for row_no, row in enumerate(sheet.iter_rows(), start=1):
			yield row_no, [_xlsx_cell(c) for c in row]
	finally:
		workbook.close()


class XLSXFormat(FileFormat):
	kind = "XLSX"
	extensions = ("xlsx",)
	text = False
	short_rows_allowed = True

	def __iter__(self) -> Iterator[tuple[int, list]]:
		return iter_xlsx(self.path, self.sheet_name)
