"""The desk's global search, with per-record permission.

Frappe's `frappe.utils.global_search.search` checks only that the user may read each result's DocType,
so with private opportunity visibility it would show other people's deals (their name and searchable
fields). This wrapper keeps Frappe's search and drops every result the user may not read (asked through
`frappe.get_list`, so each DocType's own rules apply: the app's visibility, Event's privacy...)."""

import frappe
from frappe.utils.global_search import search as frappe_search


@frappe.whitelist()
def global_search(text: str, start: int = 0, limit: int = 20, doctype: str = "") -> list[dict]:
	results = frappe_search(text, start=start, limit=limit, doctype=doctype)
	names_by_doctype: dict[str, set[str]] = {}
	for result in results:
		names_by_doctype.setdefault(result.doctype, set()).add(result.name)
	readable = {
		(dt, name)
		for dt, names in names_by_doctype.items()
		for name in frappe.get_list(dt, filters={"name": ("in", list(names))}, pluck="name", limit=0)
	}
	return [result for result in results if (result.doctype, result.name) in readable]
