from frappe.model.document import Document

from opportunity_suite.services.safe_names import check_name, check_picklist_name


class Competitor(Document):
	def validate(self):
		check_picklist_name(self)

	def before_rename(self, old, new, merge=False):
		check_name(self.doctype, new)
