"""The shipped example rule (disabled): "Hot deal: Amount > 10000 on first save → email Sales Managers"."""

import frappe

EXAMPLE_RULE = "Hot deal: Amount over 10000 on first save"
EXAMPLE_SUBJECT = "Hot deal: {{ doc.opportunity_name }} ({{ doc.amount|money(doc.currency) }})"
EXAMPLE_MESSAGE = """<p>A new opportunity worth <b>{{ doc.amount|money(doc.currency) }}</b> was just created:
<b>{{ doc.opportunity_name }}</b> ({{ doc.name }}).</p>
<p>Stage: {{ doc.sales_stage }}. Expected close: {{ doc.expected_close_date|date }}.
Assigned to: {{ doc.assigned_to }}.</p>"""


def ensure_example_rule():
	"""Create the example rule when it is missing (idempotent; an edited one is left alone)."""
	if frappe.db.exists("Alert Rule", EXAMPLE_RULE) or not frappe.db.exists("DocType", "Opportunity"):
		return
	frappe.get_doc(
		{
			"doctype": "Alert Rule",
			"rule_name": EXAMPLE_RULE,
			"document_type": "Opportunity",
			"enabled": 0,
			"description": "Example (Vtiger's hot deal): Amount > 10000 on first save → email Sales Managers.",
			"trigger": "On First Save",
			"condition_match": "All",
			"conditions": [{"fieldname": "amount", "operator": "Greater Than", "value": "10000"}],
			"actions": [
				{
					"action_type": "Email",
					"recipient_roles": "Sales Manager",
					"subject": EXAMPLE_SUBJECT,
					"message": EXAMPLE_MESSAGE,
				}
			],
		}
	).insert(ignore_permissions=True)
