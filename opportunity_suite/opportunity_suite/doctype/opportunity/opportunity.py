import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import flt

from opportunity_suite.services.assignment import sync_from_opportunity
from opportunity_suite.services.conversion import protect_conversion_fields
from opportunity_suite.services.field_checks import check_values
from opportunity_suite.services.forecast import compute_amounts
from opportunity_suite.services.items import apply_opportunity_lines
from opportunity_suite.services.picklists import check_picklist_values
from opportunity_suite.services.stages import apply_stage


class Opportunity(Document):
	def validate(self):
		check_values(self)
		if not self.assigned_to:
			self.assigned_to = self.owner or frappe.session.user
		if not 0 <= flt(self.probability) <= 100:
			frappe.throw(_("Probability must be between 0 and 100."), title=_("Invalid Probability"))
		apply_stage(self, self.get_doc_before_save())
		check_picklist_values(self, self.get_doc_before_save())
		apply_opportunity_lines(self, self.get_doc_before_save())
		compute_amounts(self)
		protect_conversion_fields(self)

	def on_update(self):
		sync_from_opportunity(self)
