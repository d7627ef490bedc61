"""The shipped example rule (disabled): "Hot deal: Amount > 10000 on first save → email Sales Managers".

Its description and e-mail are written in the site's language (the app's translations; the Jinja
placeholders stay as they are): at install, and again by the first-run setup once the site's language
is known, as long as nobody edited them."""

import frappe
from frappe import _

EXAMPLE_RULE = "Hot deal: Amount over 10000 on first save"
_AMOUNT = "{{ doc.amount|money(doc.currency) }}"
_NAME = "{{ doc.opportunity_name }}"


def example_texts(lang: str | None = None) -> dict[str, str]:
	"""The example rule's description, e-mail subject and message in `lang` (the site's language)."""
	lang = lang or frappe.db.get_single_value("System Settings", "language") or "en"

	return {
		"description": _(
			"Example (Vtiger's hot deal): Amount > 10000 on first save → email Sales Managers.", lang=lang
		),
		"subject": _("Hot deal: {0} ({1})", lang=lang).format(_NAME, _AMOUNT),
		"message": "<p>{0}</p>\n<p>{1}\n{2}</p>".format(
			_("A new opportunity worth {0} was just created: {1} ({2}).", lang=lang).format(
				f"<b>{_AMOUNT}</b>", f"<b>{_NAME}</b>", "{{ doc.name }}"
			),
			_("Stage: {0}. Expected close: {1}.", lang=lang).format(
				"{{ doc.sales_stage }}", "{{ doc.expected_close_date|date }}"
			),
			_("Assigned to: {0}.", lang=lang).format("{{ doc.assigned_to }}"),
		),
	}


def ensure_example_rule():
	"""Create the example rule when it is missing (idempotent; an edited one is left alone)."""
	if frappe.db.exists("Alert Rule", EXAMPLE_RULE) or not frappe.db.exists("DocType", "Opportunity"):
		return
	texts = example_texts()
	frappe.get_doc(
		{
			"doctype": "Alert Rule",
			"rule_name": EXAMPLE_RULE,
			"document_type": "Opportunity",
			"enabled": 0,
			"description": texts["description"],
			"trigger": "On First Save",
			"condition_match": "All",
			"conditions": [{"fieldname": "amount", "operator": "Greater Than", "value": "10000"}],
			"actions": [
				{
					"action_type": "Email",
					"recipient_roles": "Sales Manager",
					"subject": texts["subject"],
					"message": texts["message"],
				}
			],
		}
	).insert(ignore_permissions=True)


def localize_example_rule(lang: str):
	"""The example rule's texts in `lang` when they are still the English ones it was installed with: the
	first-run setup calls it once the site's language is set (an edited rule is left alone)."""
	if lang == "en" or not frappe.db.exists("Alert Rule", EXAMPLE_RULE):
		return
	rule = frappe.get_doc("Alert Rule", EXAMPLE_RULE)
	email = next((action for action in rule.actions if action.action_type == "Email"), None)
	english = example_texts("en")
	if not email or (rule.description, email.subject, email.message) != (
		english["description"],
		english["subject"],
		english["message"],
	):
		return
	wanted = example_texts(lang)
	rule.description = wanted["description"]
	email.subject, email.message = wanted["subject"], wanted["message"]
	rule.save(ignore_permissions=True)
