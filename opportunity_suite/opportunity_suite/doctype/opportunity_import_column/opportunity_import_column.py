from frappe.model.document import Document


class OpportunityImportColumn(Document):
	pass
