import frappe
from frappe.model.document import Document

from opportunity_suite.services.assignment import sync_from_opportunity
from opportunity_suite.services.opportunity import validate_opportunity


class Opportunity(Document):
	def validate(self):
		validate_opportunity(self)  # the same rules an import applies to each row

	def onload(self):
		# the desk knows only role permissions; record visibility and shares decide write (stage path)
		self.set_onload("can_write", bool(frappe.has_permission("Opportunity", "write", doc=self)))

	def on_update(self):
		sync_from_opportunity(self)
