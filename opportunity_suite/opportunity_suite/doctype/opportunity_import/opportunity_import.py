import frappe
from frappe import _
from frappe.model.document import Document

from opportunity_suite.services.importing.readers import file_kind


class OpportunityImport(Document):
	def validate(self):
		if self.import_file:
			self.file_kind = file_kind(self.import_file)
		if (
			self.has_value_changed("import_file")
			and not self.is_new()
			and self.status not in ("Pending", "Failed")
		):
			frappe.throw(_("The file of an import that has run can't be changed."))
