import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import flt


class OpportunityStage(Document):
	def validate(self):
		if not 0 <= flt(self.default_probability) <= 100:
			frappe.throw(_("Default Probability must be between 0 and 100."))
