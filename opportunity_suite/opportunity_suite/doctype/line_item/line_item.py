from frappe.model.document import Document


class LineItem(Document):
	pass
