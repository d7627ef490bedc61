from frappe.model.document import Document


class OpportunityImportDefault(Document):
	pass
