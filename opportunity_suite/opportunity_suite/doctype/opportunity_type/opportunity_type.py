from frappe.model.document import Document


class OpportunityType(Document):
	pass
