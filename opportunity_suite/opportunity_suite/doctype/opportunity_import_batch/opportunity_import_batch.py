from frappe.model.document import Document


class OpportunityImportBatch(Document):
	pass
