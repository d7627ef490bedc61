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
