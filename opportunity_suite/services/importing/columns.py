"""Column mapping in use: each mapped cell turned into its field's value (CellError naming what is
wrong), a vCard's fields into a record, the run's defaults filled in. No database work: a batch is parsed
while MariaDB writes the previous one."""

import json
import re

import frappe
from frappe import _

from opportunity_suite.services.importing import values
from opportunity_suite.services.importing.common import RowError, failed_row, readable
from opportunity_suite.services.importing.vcard import COLUMNS as VCARD_COLUMNS

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


class ColumnValues:
	"""Mixed into ImportRun: needs `fields`, `converters`, `headers`, `defaults`, `kind`, `doc`,
	`number_format`, `date_format`, `has_organization`."""

	def _parse_defaults(self) -> dict:
		raw = self.doc.defaults
		if not raw:
			return {}
		try:
			given = json.loads(raw) if isinstance(raw, str) else raw
		except ValueError:
			frappe.throw(_("Defaults must be a JSON object of fieldname → value."))
		if not isinstance(given, dict):
			frappe.throw(_("Defaults must be a JSON object of fieldname → value."))
		out = {}
		for fieldname, value in given.items():
			if fieldname not in self.fields:
				frappe.throw(_("Defaults: Opportunity has no field {0}.").format(fieldname))
			try:
				out[fieldname] = self.convert(fieldname, value)
			except values.CellError as e:
				frappe.throw(_("Defaults: {0}: {1}").format(fieldname, e))
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
		limit = (df.length or 140) if fieldtype in ("Data", "Link", "Dynamic Link") else None

		def to_text(v):
			result = values.text(v) or None
			if limit and result and len(result) > limit:
				raise values.CellError(_("is longer than {0} characters").format(limit))
			return result

		return to_text

	def convert(self, fieldname: str, value):
		return self.converter(fieldname)(value)

	def row_values(self, row: list) -> dict:
		"""The row's cells as field values; RowError listing every cell that doesn't parse."""
		out, errors = {}, []
		width = len(row)
		for index, fieldname, convert in self.converters:
			cell = row[index] if index < width else None
			if cell is None or cell == "":
				continue
			try:
				converted = convert(cell)
			except values.CellError as e:
				errors.append(_("{0}: {1}").format(self.headers[index], e))
				continue
			if converted is not None:
				out[fieldname] = converted
		if errors:
			raise RowError("; ".join(errors))
		return out

	def parse(self, rows: list[tuple[int, list]]) -> tuple[list, list]:
		"""The rows as field values: ([(row_no, row, record)], [failed rows]). No database work."""
		parsed, failed = [], []
		for row_no, row in rows:
			try:
				record = self.card_values(row) if self.kind == "VCF" else self.row_values(row)
				for fieldname, value in self.defaults.items():
					if record.get(fieldname) in (None, ""):
						record[fieldname] = value
				parsed.append((row_no, row, record))
			except Exception as e:  # any error of one row fails that row, never the run
				frappe.clear_last_message()
				failed.append(failed_row(row_no, row, readable(e)))
		return parsed, failed

	def card_values(self, row: list) -> dict:
		card = dict(zip(VCARD_COLUMNS, row, strict=False))
		if not (card.get("Full Name") or card.get("Organization") or card.get("Email")):
			raise RowError(_("The card has no name, organization or email."))
		pattern = self.doc.vcard_name_pattern or "{organization} – {full_name}"
		placeholders = {
			"organization": card.get("Organization") or "",
			"full_name": card.get("Full Name") or "",
			"first_name": card.get("First Name") or "",
			"last_name": card.get("Last Name") or "",
			"email": card.get("Email") or "",
		}
		name = _PLACEHOLDER.sub(lambda m: placeholders.get(m.group(1), m.group(0)), pattern)
		name = re.sub(r"^[\s–-]+|[\s–-]+$", "", name) or placeholders["full_name"] or placeholders["email"]
		record = {"opportunity_name": name[:140], "_card": card}
		if self.has_organization and card.get("Organization"):
			record["organization"] = card["Organization"]
		return record
