from frappe.model.document import Document


class AlertRuleCondition(Document):
	pass
