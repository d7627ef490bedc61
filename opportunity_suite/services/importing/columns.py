"""Column mapping in use: each mapped cell turned into its field's value (CellError naming what is
wrong, and which cell), a row into a record through its file's format (a vCard's: `formats/vcf_format.py`),
the run's defaults filled in. No database work: a batch is parsed while MariaDB writes the previous one."""

import json

import frappe
from frappe import _

from opportunity_suite.services.importing import competitors, values
from opportunity_suite.services.importing.common import RowError, failed_row, readable
from opportunity_suite.services.importing.formats import RowShapeError


def given_defaults(doc) -> dict:
	"""fieldname → value as the import gives them: its older JSON field first, then its Defaults table
	(a field in both takes the table's value)."""
	raw = doc.get("defaults")
	given = {}
	if raw:
		try:
			given = json.loads(raw) if isinstance(raw, str) else raw
		except ValueError:
			frappe.throw(_("Defaults must be a JSON object of fieldname → value."))
		if not isinstance(given, dict):
			frappe.throw(_("Defaults must be a JSON object of fieldname → value."))
		given = dict(given)
	for row in doc.get("default_values") or []:
		if row.fieldname and row.value not in (None, ""):
			given[row.fieldname] = row.value
	return given


class ColumnValues:
	"""Mixed into ImportRun: needs `file` (its format), `fields`, `converters`, `headers`, `defaults`,
	`doc`, `number_format`, `date_format`."""

	def _parse_defaults(self) -> dict:
		"""The run's defaults: the Defaults table (field → value), over the JSON field older imports
		kept them in."""
		given = given_defaults(self.doc)
		out = {}
		for fieldname, value in given.items():
			if fieldname not in self.fields:
				frappe.throw(_("Defaults: Opportunity has no field {0}.").format(fieldname))
			try:
				out[fieldname] = self.convert(fieldname, value)
			except values.CellError as e:
				label = _(self.fields[fieldname].label or fieldname)
				frappe.throw(_("Defaults: {0}: {1}").format(label, e))
		return out

	def converter(self, fieldname: str):
		"""The function turning one cell into `fieldname`'s value (CellError when it can't)."""
		df = self.fields[fieldname]
		fieldtype = df.fieldtype
		number_format, date_format = self.number_format, self.date_format
		if fieldtype == "Currency":
			return lambda v: values.to_currency(v, number_format)
		if fieldtype == "Float":
			return lambda v: values.to_float(v, number_format)
		if fieldtype == "Int":
			return lambda v: values.to_int(v, number_format)
		if fieldtype == "Percent":
			return lambda v: values.to_percent(v, number_format)
		if fieldtype == "Check":
			return values.to_check
		if fieldtype in ("Date", "Datetime"):
			return lambda v: values.to_date(v, date_format)
		if fieldtype == "Select":
			return values.to_select((df.options or "").split("\n"))
		if fieldname == competitors.FIELD:
			return competitors.parse_cell
		return values.text_converter(df)

	def convert(self, fieldname: str, value):
		return self.converter(fieldname)(value)

	def row_values(self, row: list) -> dict:
		"""The row's cells as field values; RowError listing every cell that doesn't parse."""
		out, errors, cells = {}, [], {}
		try:
			self.file.check_row(row, len(self.headers))
		except RowShapeError as e:
			raise RowError(str(e)) from None
		width = len(row)
		for index, fieldname, convert in self.converters:
			cell = row[index] if index < width else None
			if cell is None or cell == "":
				continue
			try:
				converted = convert(cell)
			except values.CellError as e:
				errors.append(_("{0}: {1}").format(self.headers[index], e))
				cells[fieldname] = errors[-1]
				continue
			if converted is not None:
				out[fieldname] = converted
		if not errors:
			errors = self._check_currency_marks(row, out, cells)
		if errors:
			raise RowError("; ".join(errors), cells)
		if out.get("probability") == 0 and "probability_is_manual" not in out:
			out["probability_is_manual"] = 1  # a 0 in the file is a value, not "not given"
		return out

	def _check_currency_marks(self, row: list, out: dict, cells: dict) -> list[str]:
		"""An amount written with a currency sign or code other than the row's currency (`€1,500` on a
		USD row) is refused: it can't be taken as that many dollars."""
		errors = []
		if self.__dict__.get("_currency_columns") is None:
			self._currency_columns = [
				index
				for index, fieldname, _c in self.converters
				if self.fields[fieldname].fieldtype == "Currency"
			]
		if not self._currency_columns:
			return errors
		currency = out.get("currency") or self.defaults.get("currency") or self.default_currency
		for index in self._currency_columns:
			if index < len(row):
				try:
					values.check_currency_mark(row[index], currency)
				except values.CellError as e:
					errors.append(_("{0}: {1}").format(self.headers[index], e))
					cells[self.column_map[index]] = errors[-1]
		return errors

	def parse(self, rows: list[tuple[int, list]]) -> tuple[list, list]:
		"""The rows as field values: ([(row_no, row, record)], [failed rows]). No database work."""
		parsed, failed = [], []
		for row_no, row in rows:
			try:
				record = self.file.record(self, row)
				for fieldname, value in self.defaults.items():
					if record.get(fieldname) in (None, "") and fieldname != "lost_reason":
						record[fieldname] = value  # a default lost reason is only for Lost rows (batch)
				parsed.append((row_no, row, record))
			except Exception as e:  # any error of one row fails that row, never the run
				frappe.clear_last_message()
				failed.append(failed_row(row_no, row, readable(e)))
		return parsed, failed
