"""The desk's global search, with per-record permission.

Frappe's `frappe.utils.global_search.search` checks only that the user may read each result's DocType,
so with private opportunity visibility it would show other people's deals (their name and searchable
fields). This wrapper keeps Frappe's search and drops every result the user may not read (asked through
`frappe.get_list`, so each DocType's own rules apply: the app's visibility, Event's privacy...).

The link search, list and count wrappers below add the window index's candidates to Frappe's own query
(services/search.py): same rows, permission conditions and order."""

import frappe
from frappe.desk import reportview
from frappe.desk import search as frappe_search
from frappe.utils import cint

from opportunity_suite.services import search, totals


@frappe.whitelist()
def global_search(text: str, start: int = 0, limit: int = 20, doctype: str = "") -> list[dict]:
	results = search.global_search(text, start=start, limit=limit, doctype=doctype)
	names_by_doctype: dict[str, set[str]] = {}
	for result in results:
		names_by_doctype.setdefault(result.doctype, set()).add(result.name)
	readable = {
		(dt, name)
		for dt, names in names_by_doctype.items()
		for name in frappe.get_list(dt, filters={"name": ("in", list(names))}, pluck="name", limit=0)
	}
	return [result for result in results if (result.doctype, result.name) in readable]


# ---- the infix search's fast path (services/search.py): the same queries, narrowed by the window index ----


@frappe.whitelist()
def search_link(
	doctype: str,
	txt: str,
	query: str | None = None,
	filters: str | dict | list | None = None,
	page_length: int = 10,
	searchfield: str | None = None,
	reference_doctype: str | None = None,
	ignore_user_permissions: bool = False,
) -> list[dict]:
	"""Frappe's link search; for Opportunity (without a custom query) with `name in (candidates)` added."""
	if doctype == "Opportunity" and not query and _may_search():
		narrowed = search.link_search_filters((txt or "").strip(), filters)
		if narrowed == []:
			return []
		if narrowed is not None:
			filters = narrowed
	return frappe_search.search_link(
		doctype,
		txt,
		query=query,
		filters=filters,
		page_length=page_length,
		searchfield=searchfield,
		reference_doctype=reference_doctype,
		ignore_user_permissions=ignore_user_permissions,
	)


def _may_search() -> bool:
	"""Narrow only for a user Frappe lets search opportunities at all (others get Frappe's own refusal)."""
	return bool(
		frappe.has_permission("Opportunity", "select") or frappe.has_permission("Opportunity", "read")
	)


def _narrow_form_filters() -> None:
	form = frappe.local.form_dict
	if form.get("doctype") == "Opportunity" and form.get("filters") and _may_search():
		form["filters"] = search.narrow_filters(form["filters"])


@frappe.whitelist()
@frappe.read_only()
def reportview_get():
	"""The list, report view and Kanban's rows (frappe.desk.reportview.get), name filters narrowed."""
	_narrow_form_filters()
	return reportview.get()


@frappe.whitelist()
@frappe.read_only()
def reportview_get_count() -> int:
	"""The list's count (frappe.desk.reportview.get_count), name filters narrowed; a full count from the
	pre-aggregated totals where they hold it (services/totals/)."""
	form = frappe.form_dict
	if form.get("doctype") == totals.DOCTYPE and not cint(form.get("limit")):
		counted = totals.count(frappe.parse_json(form.get("filters")) if form.get("filters") else [])
		if counted is not None:
			return counted
	_narrow_form_filters()
	return reportview.get_count()
