from frappe.model.document import Document


class ForecastSnapshotRow(Document):
	pass
