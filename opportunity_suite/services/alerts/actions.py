"""What a firing does: email (through Frappe's Email Queue), in-app notification (Notification Log),
ToDo, and field updates. Each returns the names of what it created, for the Alert Log. An e-mail's
recipients are resolved at the firing, its templates rendered in the background job that queues it
(services/alerts/delivery.py): the mail waits for the Email Queue anyway, the user's save need not."""

import html
from dataclasses import dataclass, field

import frappe
from frappe.utils import add_days, cint, today

from opportunity_suite.services.alerts import recipients as rcpt
from opportunity_suite.services.alerts import rules as rules_
from opportunity_suite.services.alerts import templates


@dataclass
class Outcome:
	email_queues: list[str] = field(default_factory=list)
	notification_logs: list[str] = field(default_factory=list)
	todos: list[str] = field(default_factory=list)
	updates: dict = field(default_factory=dict)  # fieldname -> value, saved once per firing
	emails: list[dict] = field(default_factory=list)  # {subject, message, recipients}: for delivery.py


def run_actions(rule: dict, doc) -> Outcome:
	outcome = Outcome()
	context = None
	for action in rule["actions"]:
		kind = action["action_type"]
		if kind == "Update Field":
			fieldname = (action["update_field"] or "").strip()
			outcome.updates[fieldname] = rules_.update_value(doc.doctype, fieldname, action["update_value"])
			continue
		to = rcpt.resolve(action, doc)
		if kind == "Email":
			if emails := to.emails():
				outcome.emails.append(
					{"subject": action["subject"], "message": action["message"], "recipients": emails}
				)
			continue
		if context is None:
			context = templates.record_context(doc)
		subject = templates.render(action["subject"], context, doc.doctype)
		message = templates.render(action["message"], context, doc.doctype)
		if kind == "Notification":
			outcome.notification_logs += notify(doc, to.users, subject, message)
		elif kind == "ToDo":
			outcome.todos += create_todos(doc, to.users, subject, message, cint(action["todo_due_in_days"]))
		else:
			rules_.validate_action(doc.doctype, frappe._dict(action))  # raises: unknown action
	return outcome


def send_email(doc, emails: list[str], subject: str, message: str) -> list[str]:
	if not emails:
		return []
	queued = frappe.sendmail(
		recipients=emails,
		subject=html.unescape(subject),  # rendered escaped; a mail header is plain text
		message=message,
		reference_doctype=doc.doctype,
		reference_name=doc.name,
		now=False,
	)
	if not queued:
		return []
	if isinstance(queued, list):
		return [q.name for q in queued]
	return [queued.name]


def notify(doc, users: list[str], subject: str, message: str) -> list[str]:
	names = []
	for user in users:
		log = frappe.get_doc(
			{
				"doctype": "Notification Log",
				"for_user": user,
				"from_user": frappe.session.user,
				"type": "Alert",
				"document_type": doc.doctype,
				"document_name": doc.name,
				"subject": subject,
				"email_content": message,
			}
		).insert(ignore_permissions=True)
		names.append(log.name)
	return names


def create_todos(doc, users: list[str], subject: str, message: str, due_in_days: int) -> list[str]:
	names = []
	for user in users:
		todo = frappe.get_doc(
			{
				"doctype": "ToDo",
				"allocated_to": user,
				"assigned_by": frappe.session.user,
				"description": message or subject,
				"reference_type": doc.doctype,
				"reference_name": doc.name,
				"date": add_days(today(), due_in_days),
				"priority": "Medium",
			}
		).insert(ignore_permissions=True)
		names.append(todo.name)
	return names
