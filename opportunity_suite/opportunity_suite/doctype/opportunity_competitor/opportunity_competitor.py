from frappe.model.document import Document


class OpportunityCompetitor(Document):
	pass
