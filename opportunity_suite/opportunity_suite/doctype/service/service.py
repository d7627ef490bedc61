from frappe.model.document import Document


class Service(Document):
	pass
