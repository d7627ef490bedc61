"""Frappe's whitelisted counts that skip permission, wrapped (hooks.py `override_whitelisted_methods`).

- `frappe.client.get_count` (v15) is `frappe.db.count`: any logged-in user, a Website User included, could
  count any DocType's records, and a Sales User the private opportunities of others by filter. Ours counts
  through `frappe.get_list`, so each DocType's read permission and rules apply (the desk's own list count,
  `frappe.desk.reportview.get_count`, already does). A child DocType is counted with `parent` named, as
  Frappe's get_list wants it.
- `frappe.desk.listview.get_group_by_count` counts the list sidebar's "Assigned To" over
  `frappe.qb.get_query`, which applies no permission: ours counts the assignments of the records
  `frappe.get_list` returns (the other sidebar groups already go through get_list).
- Counts of opportunities (these two, the sidebar's groups, Assigned To's to-dos too, and the number cards,
  `frappe.desk.doctype.number_card.number_card.get_result`) come from the pre-aggregated totals where they
  hold the answer (services/totals/: the same read rules; a card over closed deals from the outcome summary,
  services/outcome_cards.py), else from the query Frappe runs."""

import frappe
from frappe.desk import listview
from frappe.desk.doctype.number_card import number_card
from frappe.utils import get_safe_filters

from opportunity_suite.services import outcome_cards, totals
from opportunity_suite.services.list_fields import count_distinct_names


@frappe.whitelist()
def get_count(
	doctype: str, filters=None, debug: bool = False, cache: bool = False, parent: str | None = None
) -> int:
	if doctype == totals.DOCTYPE and not parent and not debug:
		counted = totals.count(get_safe_filters(filters))
		if counted is not None:
			return counted
	rows = frappe.get_list(
		doctype,
		filters=get_safe_filters(filters),
		fields=[count_distinct_names(doctype)],
		order_by=None,
		parent_doctype=parent,
	)
	return rows[0].count if rows else 0


@frappe.whitelist()
def get_group_by_count(doctype: str, current_filters: str, field: str) -> list[dict]:
	if field != "assigned_to":
		if doctype == totals.DOCTYPE:
			counted = totals.group_by_count(field, frappe.parse_json(current_filters))
			if counted is not None:
				return counted
		return listview.get_group_by_count(doctype, current_filters, field)
	if doctype == totals.DOCTYPE:
		counted = totals.assigned_to_count(frappe.parse_json(current_filters))
		if counted is not None:
			return counted
	readable = frappe.get_list(  # the SQL of the readable records' names, run inside the count below
		doctype,
		filters=frappe.parse_json(current_filters),
		fields=[f"`tab{doctype}`.`name`"],
		order_by=None,
		limit_page_length=0,
		run=False,
	)
	# raw SQL: the subquery is Frappe's own permission query (values escaped by it); % doubled because
	# this query takes parameters
	return frappe.db.sql(
		f"""select todo.allocated_to as name, count(*) as count
		from `tabToDo` todo join `tabUser` u on u.name = todo.allocated_to
		where todo.status != 'Cancelled' and u.user_type = 'System User'
			and todo.reference_type = %(doctype)s and todo.reference_name in ({readable.replace("%", "%%")})
		group by todo.allocated_to order by count desc limit 50""",
		{"doctype": doctype},
		as_dict=True,
	)


@frappe.whitelist()
def get_number_card_result(doc: str | dict, filters: str | list | dict | None = None, to_date=None) -> float:
	"""Frappe's number card value (`number_card.get_result`), from the totals for the app's Opportunity
	cards where they hold it. Read permission is Frappe's own on both paths (get_list; totals.read_scope)."""
	card = frappe.parse_json(doc)
	if isinstance(card, dict):
		parsed = frappe.parse_json(filters) if filters else []
		value = totals.number_card(frappe._dict(card), parsed, to_date)
		if value is None:  # a card over closed deals (Won This Quarter): the outcome summary's
			value = outcome_cards.number_card(frappe._dict(card), parsed, to_date)
		if value is not None:
			return value
	return number_card.get_result(doc, filters, to_date)
