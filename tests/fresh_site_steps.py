"""Steps the fresh-site scheduler test runs on its newly set-up site, each in a process of its own connected
to that site (the test's own process stays on the test site)."""

import frappe
from frappe.utils import add_to_date, get_datetime, now_datetime

from opportunity_suite.services.importing import jobs

IMPORT_ROWS = 50


def queue_hot_deal_email(address: str) -> dict:
	"""A hot-deal rule e-mailing `address`, and a deal that fires it: the firing is logged, and its e-mail
	waits for a worker to render it into the Email Queue (services/alerts/delivery.py)."""
	rule = frappe.get_doc(
		{
			"doctype": "Alert Rule",
			"rule_name": "Fresh site hot deal",
			"document_type": "Opportunity",
			"enabled": 1,
			"trigger": "Every Save",
			"condition_match": "All",
			"conditions": [{"fieldname": "amount", "operator": "Greater Than", "value": "10000"}],
			"actions": [
				{
					"action_type": "Email",
					"recipient_addresses": address,
					"subject": "Hot deal {{ doc.opportunity_name }}",
					"message": "<p>{{ doc.amount }}</p>",
				}
			],
		}
	).insert()
	opportunity = frappe.get_doc(
		{
			"doctype": "Opportunity",
			"opportunity_name": "Fresh site deal",
			"amount": 15000,
			"sales_stage": "Prospecting",
			"expected_close_date": add_to_date(now_datetime(), days=30).date(),
		}
	).insert()
	frappe.db.commit()
	queued = frappe.get_all("Email Queue", filters={"reference_name": opportunity.name}, pluck="status")
	fired = frappe.get_all("Alert Log", filters={"reference_name": opportunity.name}, pluck="outcome")
	return {"rule": rule.name, "opportunity": opportunity.name, "queued": queued, "fired": fired}


def stall_an_import(tag: str) -> str:
	"""An import left as a killed worker leaves it: Running, no job, no progress for 10 minutes."""
	rows = ["Opportunity Name,Amount,Sales Stage,Expected Close Date"]
	rows += [f"{tag} {i},{i},Prospecting,2030-12-31" for i in range(IMPORT_ROWS)]
	file = frappe.get_doc(
		{
			"doctype": "File",
			"file_name": f"{tag}.csv",
			"content": "\r\n".join(rows).encode(),
			"is_private": 1,
		}
	).insert()
	doc = frappe.get_doc({"doctype": jobs.IMPORT_DOCTYPE, "import_file": file.file_url}).insert()
	jobs.prepare(doc)
	jobs.start(frappe.get_doc(jobs.IMPORT_DOCTYPE, doc.name), enqueue=False)
	frappe.db.set_value(
		jobs.IMPORT_DOCTYPE,
		doc.name,
		{"status": "Running", "heartbeat": add_to_date(now_datetime(), minutes=-10)},
		update_modified=False,
	)
	frappe.db.commit()
	return doc.name


def state(import_name: str, opportunity: str) -> dict:
	return {
		"import": frappe.db.get_value(
			jobs.IMPORT_DOCTYPE, import_name, ["status", "rows_read", "created_count"], as_dict=True
		),
		"email": frappe.get_all("Email Queue", filters={"reference_name": opportunity}, pluck="status"),
		"time_zone": frappe.db.get_single_value("System Settings", "time_zone"),
		"future_jobs": sum(
			get_datetime(job.last_execution or job.creation) > now_datetime()
			for job in frappe.get_all("Scheduled Job Type", fields=["last_execution", "creation"])
		),
	}


def diagnose(opportunity: str) -> dict:
	"""What the site holds about the alert's e-mail, for a failing test's message."""
	return {
		"alert_log": frappe.get_all(
			"Alert Log", filters={"reference_name": opportunity}, fields=["outcome", "email_queues", "error"]
		),
		"email_queue": frappe.get_all(
			"Email Queue",
			filters={"reference_name": opportunity},
			fields=["name", "status", "retry", "send_after", "sender", "creation", "error"],
		),
		"email_accounts": frappe.get_all(
			"Email Account",
			fields=["name", "email_id", "smtp_server", "smtp_port", "enable_outgoing", "default_outgoing"],
		),
		"error_log": [
			(e.method, (e.error or "")[-600:])
			for e in frappe.get_all(
				"Error Log", fields=["method", "error"], order_by="creation desc", limit=5
			)
		],
		"now": now_datetime(),
		"suspended": frappe.db.get_default("suspend_email_queue"),
		"muted": frappe.are_emails_muted(),
	}
