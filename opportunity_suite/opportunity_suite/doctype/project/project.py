from frappe.model.document import Document


class Project(Document):
	pass
