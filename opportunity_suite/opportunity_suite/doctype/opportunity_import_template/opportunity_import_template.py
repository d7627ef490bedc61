from frappe.model.document import Document


class OpportunityImportTemplate(Document):
	pass
