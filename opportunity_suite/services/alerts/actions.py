"""What a firing does: email (through Frappe's Email Queue), in-app notification (Notification Log),
ToDo, and field updates. Each returns the names of what it created, for the Alert Log. An e-mail's
recipients are resolved at the firing, its templates rendered in the background job that queues it
(services/alerts/delivery.py): the mail waits for the Email Queue anyway, the user's save need not."""

import html
from dataclasses import dataclass, field

import frappe
from frappe import _
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
	failures: list[str] = field(default_factory=list)  # what failed, one line per action

	def did_something(self) -> bool:
		return bool(self.emails or self.email_queues or self.notification_logs or self.todos or self.updates)


def run_actions(rule: dict, doc) -> Outcome:
	"""Run the rule's actions, each in a savepoint of its own: one that fails (no outgoing email account, a
	template error...) is rolled back alone and listed in `failures` (and the Error Log); the others stay."""
	outcome = Outcome()
	cache = {}  # the template context, built once for all the actions
	for number, action in enumerate(rule["actions"], 1):
		savepoint = "alert_action_" + frappe.generate_hash(length=8)
		frappe.db.savepoint(savepoint)
		try:
			emails = len(outcome.emails)
			_run_action(action, doc, outcome, cache)
			for email in outcome.emails[emails:]:  # delivery.py names the action if it fails there
				email["action"] = number
			frappe.db.release_savepoint(savepoint)
		except Exception as e:
			frappe.db.rollback(save_point=savepoint)
			message = frappe.utils.strip_html(str(e)) or type(e).__name__
			frappe.log_error(
				title=_("Alert Rule {0} failed").format(rule["name"]),
				reference_doctype=doc.doctype,
				reference_name=doc.name,
			)
			outcome.failures.append(
				_("Action {0} ({1}): {2}").format(number, _(action["action_type"] or ""), message)
			)
	return outcome


def _run_action(action: dict, doc, outcome: Outcome, cache: dict):
	kind = action["action_type"]
	if kind == "Update Field":
		fieldname = (action["update_field"] or "").strip()
		outcome.updates[fieldname] = rules_.update_value(doc.doctype, fieldname, action["update_value"])
		return
	to = rcpt.resolve(action, doc)
	if kind == "Email":  # rendered and queued by delivery.py's job
		if emails := to.emails():
			outcome.emails.append(
				{"subject": action["subject"], "message": action["message"], "recipients": emails}
			)
		return
	if "context" not in cache:
		cache["context"] = templates.record_context(doc)
	context = cache["context"]
	subject = templates.render(action["subject"], context, doc.doctype)
	message = templates.render(action["message"], context, doc.doctype)
	if kind == "Notification":
		outcome.notification_logs += notify(doc, to.users, subject, message)
	elif kind == "ToDo":
		outcome.todos += create_todos(doc, to.users, subject, message, cint(action["todo_due_in_days"]))
	else:
		rules_.validate_action(doc.doctype, frappe._dict(action))  # raises: unknown action


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
