from frappe.model.document import Document

from opportunity_suite.services.project_mapping import validate_mapping


class ProjectMapping(Document):
	def validate(self):
		validate_mapping(self)
