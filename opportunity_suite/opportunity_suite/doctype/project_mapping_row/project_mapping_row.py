from frappe.model.document import Document


class ProjectMappingRow(Document):
	pass
