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

DOCTYPE = "Opportunity"
OPEN_EVENT_STATUSES = ("Open",)
CLOSED_EVENT_STATUSES = ("Completed", "Closed")
OPEN_TODO_STATUSES = ("Open",)
CLOSED_TODO_STATUSES = ("Closed",)
EMAIL_TYPES = ("Communication", "Feedback", "Automated Message")


def _count_readable(doctype: str, filters, group_by: str | None = None) -> dict | int:
	"""Rows of `doctype` the session user may read (Frappe's permission and sharing rules applied)."""
	name = f"`tab{doctype}`.`name`"
	if group_by:
		rows = frappe.get_list(
			doctype,
			filters=filters,
			fields=[f"`tab{doctype}`.`{group_by}` as grp", f"count(distinct {name}) as count"],
			group_by=f"`tab{doctype}`.`{group_by}`",
			order_by=None,
		)
		return {row.grp: row.count for row in rows}
	rows = frappe.get_list(doctype, filters=filters, fields=[f"count(distinct {name}) as count"], order_by=None)
	return rows[0].count if rows else 0


def _count(doctype: str, **conditions) -> int:
	table = frappe.qb.DocType(doctype)
	query = frappe.qb.from_(table).select(Count(table.name))
	for field, value in conditions.items():
		query = query.where(table[field].isin(value) if isinstance(value, tuple) else table[field] == value)
	return query.run()[0][0]


def event_filters(name: str) -> list:
	return [
		["Event Participants", "reference_doctype", "=", DOCTYPE],
		["Event Participants", "reference_docname", "=", name],
	]


def todo_filters(name: str) -> dict:
	return {"reference_type": DOCTYPE, "reference_name": name}


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


def related_counts(name: str) -> dict[str, int]:
	"""Counts for every related list of opportunity `name`, for the session user."""
	doc = frappe.get_doc(DOCTYPE, name)
	events = _count_readable("Event", event_filters(name), group_by="status")
	todos = _count_readable("ToDo", todo_filters(name), group_by="status")
	open_events = sum(events.get(s, 0) for s in OPEN_EVENT_STATUSES)
	closed_events = sum(events.get(s, 0) for s in CLOSED_EVENT_STATUSES)
	open_todos = sum(todos.get(s, 0) for s in OPEN_TODO_STATUSES)
	closed_todos = sum(todos.get(s, 0) for s in CLOSED_TODO_STATUSES)
	contacts = {row.contact for row in doc.get("contacts") or [] if row.contact}
	if doc.contact:
		contacts.add(doc.contact)
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
		"contacts": len(contacts),
		"products": sum(1 for line in lines if line.item_type == "Product"),
		"services": sum(1 for line in lines if line.item_type == "Service"),
		"documents": _count("File", attached_to_doctype=DOCTYPE, attached_to_name=name, is_folder=0),
		"quotes": _count_readable("Quote", {"opportunity": name}),
		"sales_orders": _count_readable("Sales Order", {"opportunity": name}),
		"projects": _count_readable("Project", {"opportunity": name}),
	}
