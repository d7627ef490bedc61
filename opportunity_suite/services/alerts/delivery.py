"""Alert e-mails are rendered in a background job, not in the request of the save that fired them.

The firing (dispatcher.run_rule) resolves the recipients (who may read the record, now) and writes the
Alert Log; `enqueue_emails` hands the record's readable values as they were saved to `render_and_queue`,
after the save commits. The job renders subject and message (bounded: templates.render) and puts the mail
in Frappe's Email Queue, then notes the Email Queue rows on the Alert Log. A template that fails, renders
too slowly or too large is a failure of the rule (Alert Log, Error Log, toward its switch-off) and queues
nothing for that firing. Under tests (`frappe.flags.in_test`) the job runs at once, as Frappe's own
modules do, so in-process tests see the mail; a real worker runs it everywhere else."""

import frappe
from frappe import _

from opportunity_suite.services.alerts import actions, templates
from opportunity_suite.services.alerts.errors import AlertActionError

JOB_RENDER_SECONDS = 5.0


def enqueue_emails(rule: dict, doc, alert_log: str, emails: list[dict]):
	frappe.enqueue(
		"opportunity_suite.services.alerts.delivery.render_and_queue",
		queue="short",
		enqueue_after_commit=True,
		now=bool(frappe.flags.in_test),
		rule=rule["name"],
		doctype=doc.doctype,
		name=doc.name,
		alert_log=alert_log,
		values=templates.record_values(doc),
		emails=emails,
	)


def render_and_queue(rule: str, doctype: str, name: str, alert_log: str, values: dict, emails: list[dict]):
	"""Render and queue the e-mails of one firing; a failure is the rule's, never the job's (nor a message
	to whoever saved the record)."""
	from opportunity_suite.services.alerts import dispatcher

	context = templates.context_from_values(values)
	record = frappe._dict(doctype=doctype, name=name)
	messages = len(getattr(frappe.local, "message_log", None) or [])
	savepoint = "alert_email_" + frappe.generate_hash(length=8)
	frappe.db.savepoint(savepoint)
	queued, action = [], None
	try:
		for email in emails:
			action = email.get("action")
			subject = templates.render(email["subject"], context, doctype, seconds=JOB_RENDER_SECONDS)
			message = templates.render(email["message"], context, doctype, seconds=JOB_RENDER_SECONDS)
			queued += actions.send_email(record, email["recipients"], subject, message)
		frappe.db.set_value("Alert Log", alert_log, "email_queues", "\n".join(queued), update_modified=False)
		frappe.db.release_savepoint(savepoint)
	except Exception as error:
		frappe.db.rollback(save_point=savepoint)
		if getattr(frappe.local, "message_log", None):
			del frappe.local.message_log[messages:]  # frappe.throw's message, for nobody in particular
		row = frappe.db.get_value(
			"Alert Rule", rule, ["name", "owner", "trigger", "consecutive_failures"], as_dict=True
		)
		if row:
			reason = frappe.utils.strip_html(str(error)) or type(error).__name__
			labelled = AlertActionError(_("Action {0} ({1}): {2}").format(action or "", _("Email"), reason))
			dispatcher.record_failure(dict(row), record, labelled)
		return
	if frappe.db.get_value("Alert Rule", rule, "consecutive_failures"):
		dispatcher.reset_failures(rule)
