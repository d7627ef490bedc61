from frappe.model.document import Document


class AlertLog(Document):
	"""Written by the alert service only (one row per firing); read-only in the desk."""

	pass
