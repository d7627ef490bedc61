"""The opportunity's related lists and their counts, as the viewing user may see them.

Frappe's form connections (opportunity_dashboard.py) list quotes, sales orders and projects, whose
`opportunity` field points here. What connections can't count is counted here:
- events (linked through Event Participants, no reference field; private unless public or owned),
  to-dos (reference type/name; visible to their assignee and assigner unless the user has a ToDo role):
  through `frappe.get_list`, so each user's count is what that user may read;
- comments, emails (Communication, also through its timeline links), documents (File) and the change
  log (Version): the desk shows all of them to whoever can read the opportunity, and so do the counts;
- contacts (the primary contact and the `contacts` rows) and product / service lines: the record's own.

The caller checks that the user may read the opportunity."""

import frappe
from frappe.query_builder.functions import Count

from opportunity_suite.services.list_fields import count_distinct_names, field_as

DOCTYPE = "Opportunity"
OPEN_EVENT_STATUSES = ("Open",)
CLOSED_EVENT_STATUSES = ("Completed", "Closed")
OPEN_TODO_STATUSES = ("Open",)
CLOSED_TODO_STATUSES = ("Closed",)
EMAIL_TYPES = ("Communication", "Feedback", "Automated Message")


def _count_readable(doctype: str, filters, group_by: str | None = None) -> dict | int:
	"""Rows of `doctype` the session user may read (Frappe's permission and sharing rules applied)."""
	if group_by:
		rows = frappe.get_list(
			doctype,
			filters=filters,
			fields=[field_as(doctype, group_by, "grp"), count_distinct_names(doctype)],
			group_by=f"`tab{doctype}`.`{group_by}`",
			order_by=None,
		)
		return {row.grp: row.count for row in rows}
	rows = frappe.get_list(doctype, filters=filters, fields=[count_distinct_names(doctype)], order_by=None)
	return rows[0].count if rows else 0


def _count(doctype: str, **conditions) -> int:
	table = frappe.qb.DocType(doctype)
	query = frappe.qb.from_(table).select(Count(table.name))
	for field, value in conditions.items():
		query = query.where(table[field].isin(value) if isinstance(value, tuple) else table[field] == value)
	return query.run()[0][0]


def related_lists(name: str, doc=None) -> dict[str, dict]:
	"""Each related list as a DocType and the filters that show it (the form opens the list with them)."""
	doc = doc or frappe.get_doc(DOCTYPE, name)
	contacts = sorted(
		{row.contact for row in doc.get("contacts") or [] if row.contact} | ({doc.contact} - {None, ""})
	)
	lines = doc.get("items") or []

	def by_name(doctype, names):
		return {"doctype": doctype, "filters": [[doctype, "name", "in", sorted(set(names))]]}

	return {
		"comments": {
			"doctype": "Comment",
			"filters": [
				["Comment", "reference_doctype", "=", DOCTYPE],
				["Comment", "reference_name", "=", name],
				["Comment", "comment_type", "=", "Comment"],
			],
		},
		"emails": {
			"doctype": "Communication",
			"filters": [
				["Communication", "reference_doctype", "=", DOCTYPE],
				["Communication", "reference_name", "=", name],
			],
		},
		"events": {
			"doctype": "Event",
			"filters": [
				["Event Participants", "reference_doctype", "=", DOCTYPE],
				["Event Participants", "reference_docname", "=", name],
			],
		},
		"todos": {
			"doctype": "ToDo",
			"filters": [["ToDo", "reference_type", "=", DOCTYPE], ["ToDo", "reference_name", "=", name]],
		},
		"documents": {
			"doctype": "File",
			"filters": [
				["File", "attached_to_doctype", "=", DOCTYPE],
				["File", "attached_to_name", "=", name],
			],
		},
		"changes": {
			"doctype": "Version",
			"filters": [["Version", "ref_doctype", "=", DOCTYPE], ["Version", "docname", "=", name]],
		},
		"contacts": by_name("Contact", contacts),
		"products": by_name(
			"Product", [row.item for row in lines if row.item_type == "Product" and row.item]
		),
		"services": by_name(
			"Service", [row.item for row in lines if row.item_type == "Service" and row.item]
		),
		"quotes": {"doctype": "Quote", "filters": [["Quote", "opportunity", "=", name]]},
		"sales_orders": {"doctype": "Sales Order", "filters": [["Sales Order", "opportunity", "=", name]]},
		"projects": {"doctype": "Project", "filters": [["Project", "opportunity", "=", name]]},
	}


def count_emails(name: str) -> int:
	communication = frappe.qb.DocType("Communication")
	link = frappe.qb.DocType("Communication Link")
	direct = (
		frappe.qb.from_(communication)
		.select(communication.name)
		.where(
			(communication.reference_doctype == DOCTYPE)
			& (communication.reference_name == name)
			& communication.communication_type.isin(EMAIL_TYPES)
		)
		.run(pluck=True)
	)
	through_links = (
		frappe.qb.from_(communication)
		.join(link)
		.on(link.parent == communication.name)
		.select(communication.name)
		.where(
			(link.link_doctype == DOCTYPE)
			& (link.link_name == name)
			& communication.communication_type.isin(EMAIL_TYPES)
		)
		.run(pluck=True)
	)
	return len(set(direct) | set(through_links))


def related_counts(name: str, doc=None) -> dict[str, int]:
	"""Counts for every related list of opportunity `name`, for the session user."""
	doc = doc or frappe.get_doc(DOCTYPE, name)
	lists = related_lists(name, doc)
	events = _count_readable("Event", lists["events"]["filters"], group_by="status")
	todos = _count_readable("ToDo", lists["todos"]["filters"], group_by="status")
	open_events = sum(events.get(s, 0) for s in OPEN_EVENT_STATUSES)
	closed_events = sum(events.get(s, 0) for s in CLOSED_EVENT_STATUSES)
	open_todos = sum(todos.get(s, 0) for s in OPEN_TODO_STATUSES)
	closed_todos = sum(todos.get(s, 0) for s in CLOSED_TODO_STATUSES)
	lines = doc.get("items") or []
	return {
		"comments": _count("Comment", reference_doctype=DOCTYPE, reference_name=name, comment_type="Comment"),
		"emails": count_emails(name),
		"events": open_events + closed_events,
		"open_events": open_events,
		"todos": open_todos + closed_todos,
		"open_todos": open_todos,
		"activities": open_events + open_todos,
		"activity_history": closed_events + closed_todos,
		"changes": _count("Version", ref_doctype=DOCTYPE, docname=name),
		"contacts": len(lists["contacts"]["filters"][0][3]),
		"products": sum(1 for line in lines if line.item_type == "Product"),
		"services": sum(1 for line in lines if line.item_type == "Service"),
		"documents": _count("File", attached_to_doctype=DOCTYPE, attached_to_name=name, is_folder=0),
		"quotes": _count_readable("Quote", lists["quotes"]["filters"]),
		"sales_orders": _count_readable("Sales Order", lists["sales_orders"]["filters"]),
		"projects": _count_readable("Project", lists["projects"]["filters"]),
	}
