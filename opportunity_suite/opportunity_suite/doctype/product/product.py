from frappe.model.document import Document


class Product(Document):
	pass
