import frappe
from frappe import _
from frappe.model.document import Document

from opportunity_suite.services.duplicates import check_duplicate
from opportunity_suite.services.picklists import check_picklist_values


class Lead(Document):
	def validate(self):
		for fieldname in ("first_name", "last_name", "company_name", "email_id"):
			if self.get(fieldname):
				self.set(fieldname, self.get(fieldname).strip())
		self.lead_name = " ".join(part for part in (self.first_name, self.last_name) if part)
		if not self.assigned_to:
			self.assigned_to = self.owner
		if self.status == "Converted" and not self.opportunity:
			frappe.throw(_("A lead becomes Converted by converting it (the Convert button)."))
		check_picklist_values(self, self.get_doc_before_save())
		check_duplicate(self)
