"""The desk's duplicate warning: existing records matching what is being typed."""

import frappe
from frappe import _

from opportunity_suite.services.duplicates import DUPLICATE_FIELDS, find_duplicates


@frappe.whitelist()
@frappe.read_only()
def get_duplicates(doctype: str, value: str, name: str | None = None) -> list[dict]:
	"""Records of `doctype` (Organization or Lead) whose name / email equals `value` (trimmed, any case),
	other than `name`; each with its name and title (name None for a record the user may not read)."""
	if doctype not in DUPLICATE_FIELDS:
		frappe.throw(
			_("Duplicate check is not available for {0}.").format(doctype), exc=frappe.ValidationError
		)
	if not (frappe.has_permission(doctype, "create") or frappe.has_permission(doctype, "write")):
		frappe.throw(_("Not permitted"), exc=frappe.PermissionError)
	# the check itself sees every record (a duplicate is one whoever owns it); the answer names only the
	# ones this user may read
	names = find_duplicates(doctype, value, exclude=name)
	title_field = frappe.get_meta(doctype).get_title_field()
	readable = (
		{
			row.name: row.get(title_field)
			for row in frappe.get_list(doctype, filters={"name": ("in", names)}, fields=["name", title_field])
		}
		if names
		else {}
	)
	return [
		{"name": n, "title": readable[n] or n}
		if n in readable
		else {"name": None, "title": _("a record you may not open")}
		for n in names
	]
