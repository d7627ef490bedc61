from frappe.model.document import Document

from opportunity_suite.services.items import apply_document_lines


class Quote(Document):
	def validate(self):
		apply_document_lines(self, self.get_doc_before_save())
