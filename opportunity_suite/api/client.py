"""Frappe's `frappe.client` methods that skip permission, wrapped (hooks.py `override_whitelisted_methods`).

`frappe.client.get_count` (v15) is `frappe.db.count`: any logged-in user, a Website User included, could
count any DocType's records, and a Sales User the private opportunities of others by filter. Ours counts
through `frappe.get_list`, so each DocType's read permission and rules apply (the desk's own list count,
`frappe.desk.reportview.get_count`, already does). A child DocType is counted with `parent` named, as
Frappe's get_list wants it."""

import frappe
from frappe.utils import get_safe_filters


@frappe.whitelist()
def get_count(doctype: str, filters=None, debug: bool = False, cache: bool = False, parent: str | None = None) -> int:
	rows = frappe.get_list(
		doctype,
		filters=get_safe_filters(filters),
		fields=[f"count(distinct `tab{doctype}`.`name`) as count"],
		order_by=None,
		parent_doctype=parent,
	)
	return rows[0].count if rows else 0
