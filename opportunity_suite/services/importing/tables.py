"""One DocType's table as a multi-row INSERT writes it: its columns, the values a new document starts
with, and the checks a save makes on each value written (`Table.clean`: the length of a varchar, e-mail
and phone through Frappe's own validators, the XSS sanitizer), as `BaseDocument` makes them in
`_validate_length`, `_validate_data_fields` and `_sanitize_content`."""

import re

import frappe
from frappe import _
from frappe.utils import sanitize_html, validate_email_address, validate_phone_number

from opportunity_suite.services.importing.values import match_key

STANDARD = ("name", "creation", "modified", "modified_by", "owner", "docstatus", "idx")
CHILD_STANDARD = (*STANDARD, "parent", "parentfield", "parenttype")


class Table:
	"""What a multi-row INSERT into one DocType's table needs: its columns, the values a new document
	starts with, and the checks a save makes on each value (`clean`)."""

	def __init__(self, doctype: str, child: bool = False):
		self.doctype = doctype
		self.meta = frappe.get_meta(doctype)
		columns = set(frappe.db.get_table_columns(doctype))
		standard = CHILD_STANDARD if child else STANDARD
		self.fields = [*standard, *(df.fieldname for df in self.meta.fields if df.fieldname in columns)]
		self.fields = list(dict.fromkeys(f for f in self.fields if f in columns))
		# columns an INSERT may leave out when no row has a value: nullable, NULL by default (as the runner's)
		self.null_default = frozenset(
			frappe.db.sql_list(
				"""SELECT column_name FROM information_schema.columns
				WHERE table_schema = DATABASE() AND table_name = %s AND is_nullable = 'YES'
				AND (column_default IS NULL OR column_default = 'NULL')""",
				f"tab{doctype}",
			)
		)
		doc = frappe.new_doc(doctype)
		self.template = {f: doc.get(f) for f in self.fields if f not in ("name", "creation", "modified")}
		type_map = frappe.db.type_map
		self.rules = {}
		for df in self.meta.fields:
			column = type_map.get(df.fieldtype)
			if not column or df.fieldname not in columns:
				continue
			if column[0] in ("int", "bigint", "decimal"):
				self.template[df.fieldname] = self.template.get(df.fieldname) or 0  # NOT NULL, 0 when empty
			limit = (int(df.length or 0) or int(column[1] or 0)) if column[0] == "varchar" else None
			self.rules[df.fieldname] = (limit, df.options if df.fieldtype == "Data" else None, df)

	def clean(self, row: dict, warnings: list[str], what: str) -> dict:
		"""`row` with each value a save would refuse left out (a warning says which and why), and HTML
		sanitized as a save sanitizes it."""
		for fieldname, value in list(row.items()):
			if not isinstance(value, str) or fieldname not in self.rules:
				continue
			limit, options, df = self.rules[fieldname]
			reason = None
			if options == "Email" and value and not validate_email_address(value):
				reason = _("{0} is not a valid email address").format(value)
			elif options == "Phone" and value and not validate_phone_number(value):
				reason = _("{0} is not a valid phone number").format(value)
			elif ("<" in value or ">" in value) and options != "Email" and not df.ignore_xss_filter:
				value = row[fieldname] = sanitize_html(value)
			if reason is None and limit and len(value) > limit:
				reason = _("is longer than {0} characters").format(limit)
			if reason:
				warnings.append(
					_("{0}: {1} {2} was left out: {3}.").format(
						_(what), _(df.label or fieldname), _short(value), reason
					)
				)
				row[fieldname] = None
		return row

	def new_row(self, values_: dict, now, user: str) -> dict:
		row = dict(self.template)
		row.update(values_)
		row.update(creation=now, modified=now, owner=user, modified_by=user, docstatus=0)
		row.setdefault("idx", 0)
		return row

	def search_content(self, row: dict) -> list[str]:
		"""The row's global-search parts, as `update_global_search` takes them from a saved document."""
		from frappe.utils.global_search import get_formatted_value

		if not hasattr(self, "_search_fields"):
			self._search_fields = [
				df
				for df in self.meta.get_global_search_fields()
				if df.fieldtype not in ("Table", "Table MultiSelect")
			]
		return [
			get_formatted_value(row.get(df.fieldname), df)
			for df in self._search_fields
			if row.get(df.fieldname)
		]

	def rows(self, docs: list[dict]) -> tuple[list[str], list[list]]:
		"""(columns, rows) for an INSERT of `docs`: a column no doc fills is left to its NULL default."""
		fields = [
			f
			for f in self.fields
			if f not in self.null_default or any(doc.get(f) is not None for doc in docs)
		]
		return fields, [[doc.get(f) for f in fields] for doc in docs]


def _short(value: str) -> str:
	return f"“{value[:40]}…”" if len(value) > 40 else f"“{value}”"


# ---------------------------------------------------------------- naming


def unique_names(doctype: str, bases: list[str], state: dict | None = None) -> list[str]:
	"""A name for each base, as `append_number_if_name_exists` gives one save at a time: the base when
	free, else `base-N` with N one more than the highest taken (names compare as the database compares
	them: any case, accents ignored)."""
	known = state if state is not None else {}
	unknown = [b for b in dict.fromkeys(bases) if match_key(b) not in known]
	known.update(taken_names(doctype, unknown) if unknown else {})
	state = known
	out = []
	for base in bases:
		key = match_key(base)
		exists, highest = state.setdefault(key, [False, 0])
		if not exists:
			state[key][0] = True
			out.append(base)
		else:
			state[key][1] = highest + 1
			out.append(f"{base}-{highest + 1}")
	return out


def taken_names(doctype: str, bases: list[str]) -> dict[str, list]:
	"""match key of each base → [taken?, highest N of a taken `base-N`]."""
	distinct = list(dict.fromkeys(bases))
	state: dict[str, list] = {}
	keys = {match_key(b): b for b in distinct}
	for start in range(0, len(distinct), 200):
		chunk = distinct[start : start + 200]
		conditions = " OR ".join(["`name` = %s OR `name` LIKE %s"] * len(chunk))
		params = [p for base in chunk for p in (base, _like_prefix(base) + "-%")]
		for (name,) in frappe.db.sql(f"SELECT `name` FROM `tab{doctype}` WHERE {conditions}", params):
			key = match_key(name)
			if key in keys:
				state.setdefault(key, [False, 0])[0] = True
				continue
			head, _dash, number = name.rpartition("-")
			head_key = match_key(head)
			if head_key in keys and re.fullmatch(r"\d+", number):
				entry = state.setdefault(head_key, [False, 0])
				entry[1] = max(entry[1], int(number))
	return state


def _like_prefix(text: str) -> str:
	return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
