from frappe.model.document import Document


class AlertRuleAction(Document):
	pass
