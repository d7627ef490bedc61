from frappe.model.document import Document


class LeadSource(Document):
	pass
