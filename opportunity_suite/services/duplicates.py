"""Duplicate prevention: an organization with the same name, a lead with the same email.

Values are compared trimmed and case-insensitively (the site's utf8mb4_unicode_ci collation also ignores
case, so the lookup can use the column's index). A save that would create a duplicate is refused with
`DuplicateError` naming the existing record, unless the caller says it means a new record by passing
`ignore_duplicate` (a key of the document: `{"organization_name": "...", "ignore_duplicate": 1}` over
REST, set by the desk's "Save anyway" button)."""

import frappe
from frappe import _
from frappe.query_builder.functions import Lower, Trim
from frappe.utils import get_link_to_form

# DocType -> the field whose value must be unique (trimmed, case-insensitive)
DUPLICATE_FIELDS = {"Organization": "organization_name", "Lead": "email_id"}


class DuplicateError(frappe.ValidationError):
	http_status_code = 409


def normalize(value: str | None) -> str:
	return (value or "").strip().lower()


def find_duplicates(doctype: str, value: str | None, exclude: str | None = None, limit: int = 5) -> list[str]:
	"""Names of the records of `doctype` whose duplicate-checked field equals `value` (trimmed, any case)."""
	fieldname = DUPLICATE_FIELDS[doctype]
	value = normalize(value)
	if not value:
		return []
	table = frappe.qb.DocType(doctype)
	query = (
		frappe.qb.from_(table)
		.select(table.name)
		# = under a case-insensitive collation keeps the index usable; LOWER/TRIM guard untrimmed old rows
		.where((table[fieldname] == value) | (Lower(Trim(table[fieldname])) == value))
		.orderby(table.creation)
		.limit(limit)
	)
	if exclude:
		query = query.where(table.name != exclude)
	return [row[0] for row in query.run()]


def find_duplicates_of(doctype: str, values: list[str]) -> dict[str, list[str]] | None:
	"""`find_duplicates` for many values in one query (an import's batch): `duplicate_key(value)` → the
	names of the records whose duplicate-checked field equals it, oldest first. The query is
	find_duplicates' condition; each record found is given back to the value it equals as the database
	compares them (`duplicate_key`); None when one can't be told apart that way (then ask one by one)."""
	fieldname = DUPLICATE_FIELDS[doctype]
	wanted = list(dict.fromkeys(v for v in map(normalize, values) if v))
	keys = {duplicate_key(v) for v in wanted}
	found: dict[str, list[str]] = {}
	table = frappe.qb.DocType(doctype)
	for start in range(0, len(wanted), 500):
		chunk = wanted[start : start + 500]
		rows = (
			frappe.qb.from_(table)
			.select(table.name, table[fieldname])
			.where(table[fieldname].isin(chunk) | Lower(Trim(table[fieldname])).isin(chunk))
			.orderby(table.creation)
			.run()
		)
		for name, value in rows:
			key = duplicate_key(value)
			if key not in keys:
				return None
			found.setdefault(key, []).append(name)
	return found


def duplicate_key(value: str | None) -> str:
	"""A value as find_duplicates' condition compares it: trimmed, then as the site's collation
	compares text (any case and accents, trailing spaces ignored)."""
	from opportunity_suite.services.importing.values import match_key

	return match_key(normalize(value))


def wants_duplicate(doc) -> bool:
	return bool(doc.flags.ignore_duplicate or doc.get("ignore_duplicate"))


def check_duplicate(doc):
	"""Refuse saving `doc` when its checked field matches another record's, unless asked for a new record.

	Checked when the record is new or the value changed, so an accepted duplicate can be saved again."""
	fieldname = DUPLICATE_FIELDS[doc.doctype]
	if wants_duplicate(doc) or not normalize(doc.get(fieldname)):
		return
	if not doc.is_new() and not doc.has_value_changed(fieldname):
		return
	known = doc.flags.known_duplicates  # a batch's lookup of its new records' values (find_duplicates_of)
	if known is not None and doc.is_new():
		existing = known.get(duplicate_key(doc.get(fieldname))) or []
	else:
		existing = find_duplicates(
			doc.doctype, doc.get(fieldname), exclude=None if doc.is_new() else doc.name, limit=1
		)
	if existing:
		label = _(frappe.get_meta(doc.doctype).get_label(fieldname))
		frappe.throw(
			_("{0} {1} already has this {2}. Pass ignore_duplicate to save this record anyway.").format(
				_(doc.doctype), get_link_to_form(doc.doctype, existing[0]), label
			),
			exc=DuplicateError,
			title=_("Possible Duplicate"),
		)
