"""Factories for the project conversion's tests: the mapping, and the records around an opportunity."""

import frappe
from frappe.model.document import Document
from frappe.utils import add_to_date, now_datetime, today

from tests.factories import unique


def set_mapping(rows) -> Document:
	"""Replace the Project Mapping's rows with (opportunity field, project field) pairs and save."""
	mapping = frappe.get_single("Project Mapping")
	mapping.set("mappings", [{"opportunity_field": s, "project_field": t} for s, t in rows])
	mapping.save()
	return mapping


def make_quote(opportunity: str, **values) -> Document:
	return frappe.get_doc(
		{"doctype": "Quote", "opportunity": opportunity, "quote_date": today(), **values}
	).insert()


def make_sales_order(opportunity: str, **values) -> Document:
	return frappe.get_doc(
		{"doctype": "Sales Order", "opportunity": opportunity, "order_date": today(), **values}
	).insert()


def as_user(user: str, make, *args, **kwargs):
	"""Run a factory as `user` (so that the record is theirs), then return to the previous user."""
	previous = frappe.session.user
	frappe.set_user(user)
	try:
		return make(*args, **kwargs)
	finally:
		frappe.set_user(previous)


def make_event(opportunity: str, event_type: str = "Private", **values) -> Document:
	event = frappe.get_doc(
		{
			"doctype": "Event",
			"subject": unique("Meeting"),
			"event_type": event_type,
			"starts_on": add_to_date(now_datetime(), days=2),
			**values,
		}
	)
	event.add_participant("Opportunity", opportunity)
	return event.insert()


def make_todo(opportunity: str, allocated_to: str, **values) -> Document:
	return frappe.get_doc(
		{
			"doctype": "ToDo",
			"description": unique("Call back"),
			"allocated_to": allocated_to,
			"assigned_by": frappe.session.user,
			"reference_type": "Opportunity",
			"reference_name": opportunity,
			**values,
		}
	).insert()


def attach_file(opportunity: str, is_private: int = 1, content: bytes | None = None) -> Document:
	return frappe.get_doc(
		{
			"doctype": "File",
			"file_name": f"{frappe.generate_hash(length=10)}.txt",
			"content": content or f"notes {frappe.generate_hash(length=20)}".encode(),
			"is_private": is_private,
			"attached_to_doctype": "Opportunity",
			"attached_to_name": opportunity,
		}
	).insert()


def add_comment(opportunity: str, text: str, days_ago: int = 0, comment_type: str = "Comment") -> Document:
	"""A comment by the session user; `days_ago` moves its creation back (as an old comment would be)."""
	comment = frappe.get_doc("Opportunity", opportunity).add_comment(
		comment_type, text, comment_email=frappe.session.user, comment_by=frappe.utils.get_fullname()
	)
	if days_ago:
		old = add_to_date(now_datetime(), days=-days_ago)
		frappe.db.set_value("Comment", comment.name, "creation", old, update_modified=False)
	return frappe.get_doc("Comment", comment.name)


def make_custom_field(doctype: str, fieldname: str, fieldtype: str, **values) -> str:
	"""A Custom Field (as Customize Form makes it), reused if it is there already. Commits (DDL)."""
	name = f"{doctype}-{fieldname}"
	if not frappe.db.exists("Custom Field", name):
		frappe.get_doc(
			{
				"doctype": "Custom Field",
				"dt": doctype,
				"fieldname": fieldname,
				"label": fieldname.replace("_", " ").title(),
				"fieldtype": fieldtype,
				"insert_after": "description",
				**values,
			}
		).insert(ignore_permissions=True)
	frappe.db.commit()
	frappe.clear_cache(doctype=doctype)
	return name


def delete_custom_field(name: str):
	frappe.db.rollback()
	doctype = frappe.db.get_value("Custom Field", name, "dt")
	frappe.delete_doc("Custom Field", name, force=True, ignore_permissions=True)
	frappe.db.commit()
	if doctype:
		frappe.clear_cache(doctype=doctype)
