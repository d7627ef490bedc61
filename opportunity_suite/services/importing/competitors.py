"""An opportunity's competitors from a file: a "Competitors" (or "Competitor") column naming Competitor records,
several in one cell separated by commas, semicolons or line breaks. Vtiger has no such field; other CRMs'
exports and hand-made sheets do.

As for the other picklists (Link fields resolved in links.py): a name with no Competitor record fails its
row ("Competitor X not found"), never creating one; a disabled one fails it through the save's own check
(picklists.check_picklist_values). A new record gets its rows; an update with Overwrite replaces the
deal's competitors with the file's, with Merge fills them when the deal has none; an undo puts back the
rows the import replaced and removes those of the records it made."""

import re

import frappe
from frappe import _

from opportunity_suite.services.importing import values
from opportunity_suite.services.importing.writer import insert_rows

FIELD = "competitors"
CHILD = "Opportunity Competitor"
LINK = "competitor"
PARENT = "Opportunity"
_SEPARATORS = re.compile(r"[,;\n]+")
_ROW_FIELDS = [
	"name",
	"creation",
	"modified",
	"owner",
	"modified_by",
	"docstatus",
	"idx",
	"parent",
	"parentfield",
	"parenttype",
	LINK,
]


def docfield(meta) -> frappe._dict | None:
	"""The importable pseudo-field, when the Opportunity has its competitors table."""
	df = meta.get_field(FIELD)
	if not df or df.fieldtype not in ("Table", "Table MultiSelect"):
		return None
	return frappe._dict(fieldname=FIELD, label=df.label, fieldtype=df.fieldtype, options=df.options)


def parse_cell(cell) -> list[str] | None:
	"""A cell's competitor names, each once (as MariaDB compares them)."""
	names = {}
	for part in _SEPARATORS.split(str(cell)):
		part = part.strip()
		if part:
			names.setdefault(values.match_key(part), part)
	return list(names.values()) or None


def resolve(parsed) -> list[str]:
	"""Turn each record's names into rows ([{"competitor": name}]) in place; the errors, per record."""
	wanted = {n for _no, _row, r in parsed for n in (r.get(FIELD) or []) if isinstance(n, str)}
	found = {}
	if wanted:
		for name in frappe.get_all("Competitor", filters={"name": ("in", list(wanted))}, pluck="name"):
			found[values.match_key(name)] = name
	errors = []
	for _no, _row, record in parsed:
		names = record.get(FIELD)
		if not names:
			errors.append(None)
			continue
		missing = [n for n in names if values.match_key(n) not in found]
		if missing:
			errors.append("; ".join(_("{0} {1} not found").format(_("Competitor"), n) for n in missing))
			continue
		record[FIELD] = [{LINK: found[values.match_key(n)]} for n in names]
		errors.append(None)
	return errors


def names_of(rows) -> list[str]:
	return [row.get(LINK) for row in rows or [] if row.get(LINK)]


def stored(parents: list[str]) -> dict[str, list[dict]]:
	"""parent → its competitor rows, in order."""
	out: dict[str, list[dict]] = {}
	if parents:
		for row in frappe.get_all(
			CHILD,
			filters={"parenttype": PARENT, "parentfield": FIELD, "parent": ("in", parents)},
			fields=["parent", LINK],
			order_by="idx asc",
		):
			out.setdefault(row.parent, []).append({LINK: row.get(LINK)})
	return out


def write(docs: list, user: str, now, replace: bool = False):
	"""The competitor rows of these records (dicts with `name` and `competitors`); `replace`: their rows
	so far are deleted first."""
	if replace and docs:
		frappe.db.delete(
			CHILD, {"parenttype": PARENT, "parentfield": FIELD, "parent": ("in", [d["name"] for d in docs])}
		)
	rows = [
		[frappe.generate_hash(length=10), now, now, user, user, 0, idx, doc["name"], FIELD, PARENT, name]
		for doc in docs
		for idx, name in enumerate(names_of(doc.get(FIELD)), start=1)
	]
	insert_rows(CHILD, _ROW_FIELDS, rows)


def delete_for(parents: list[str]):
	if parents:
		frappe.db.delete(CHILD, {"parenttype": PARENT, "parentfield": FIELD, "parent": ("in", parents)})
