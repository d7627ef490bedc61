from frappe.model.document import Document


class OpportunityContact(Document):
	pass
