"""Names that are safe wherever the desk puts them.

A record's name lands in HTML attributes the app doesn't write: Frappe's list view puts a Link column's
value into `data-filter="…"` and a list indicator's filter into `data-filter='…'`, the Kanban board puts
column names into `data-column='…'`, all unescaped. Frappe's own name check refuses only `<` and `>`.
So the names users choose for the picklists (Opportunity Stage, Opportunity Type, Lead Source) may not
contain quotes, backticks, angle brackets or control characters (a clear, translated error), and an
Organization's name (its ID; the organization's title keeps the text as typed) drops them.

Names stored before this rule are renamed once by a patch (`rename_unsafe_names`), links following
(Frappe's rename): "Hot' onmouseover='x" becomes "Hot onmouseover=x", harmless text. The app's own JS
escapes what it shows as well, so such a name is harmless even before the patch ran."""

import re

import frappe
from frappe import _
from frappe.model.rename_doc import rename_doc

# quotes, backtick, angle brackets and control characters (tab and newline included)
UNSAFE_CHARACTERS = re.compile(r"[\"'`<>\x00-\x1f\x7f]")
SHOWN_UNSAFE = "\" ' ` < >"
# DocType → the field its name comes from
PICKLIST_NAME_FIELDS = {
	"Opportunity Stage": "stage_name",
	"Opportunity Type": "type_name",
	"Lead Source": "source_name",
	"Lost Reason": "reason_name",
	"Competitor": "competitor_name",
}


class UnsafeNameError(frappe.ValidationError):
	pass


def has_unsafe_characters(text) -> bool:
	return isinstance(text, str) and bool(UNSAFE_CHARACTERS.search(text))


def safe_name(text: str) -> str:
	"""`text` without the unsafe characters, spaces collapsed (a tab or newline becomes a space)."""
	text = re.sub(r"[\t\n\r]", " ", text or "")
	return " ".join(UNSAFE_CHARACTERS.sub("", text).split())


def organization_id(organization_name: str) -> str:
	"""The name (ID) an Organization gets, before a number makes it unique: its organization name without
	the unsafe characters (Frappe's list view writes a Link's value into HTML attributes as it is)."""
	return safe_name((organization_name or "").strip()) or _("Organization")


def check_name(doctype: str, name: str):
	"""Refuse a picklist name with characters it doesn't need."""
	if has_unsafe_characters(name):
		frappe.throw(
			_("{0} names can't contain {1} or control characters.").format(_(doctype), SHOWN_UNSAFE),
			exc=UnsafeNameError,
			title=_("Invalid Name"),
		)


def check_picklist_name(doc):
	"""validate() of a picklist: its name field, as typed (the name comes from it)."""
	check_name(doc.doctype, doc.get(PICKLIST_NAME_FIELDS[doc.doctype]) or doc.name)


def _free_name(doctype: str, base: str) -> str:
	base = base or _("Renamed")
	candidate, number = base, 1
	while frappe.db.exists(doctype, candidate):
		number += 1
		candidate = f"{base} {number}"
	return candidate


def rename_unsafe_names(doctypes=(*PICKLIST_NAME_FIELDS, "Organization")) -> dict[str, list[tuple[str, str]]]:
	"""Rename every record of `doctypes` whose name has unsafe characters to a free safe name (links,
	the Kanban board's columns and the name field follow). Returns doctype → [(old, new)]."""
	renamed = {}
	for doctype in doctypes:
		if not frappe.db.table_exists(doctype):
			continue
		for old in frappe.get_all(doctype, pluck="name"):
			if not has_unsafe_characters(old):
				continue
			new = _free_name(doctype, safe_name(old))
			rename_doc(doctype, old, new, force=True, ignore_permissions=True, show_alert=False)
			renamed.setdefault(doctype, []).append((old, new))
	return renamed
