import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import flt

from opportunity_suite.services.forecast_categories import follow_stage_category, stage_default_category
from opportunity_suite.services.safe_names import check_name, check_picklist_name


class OpportunityStage(Document):
	def validate(self):
		check_picklist_name(self)
		if not 0 <= flt(self.default_probability) <= 100:
			frappe.throw(_("Default Probability must be between 0 and 100."))
		self.forecast_category = stage_default_category(self)

	# the shipped Kanban board's columns follow the stages (new, renamed, reordered, disabled, deleted)
	def on_update(self):
		if self.has_value_changed("forecast_category") and not self.is_new():
			follow_stage_category(self.name, self.forecast_category)
		if not _in_setup():
			from opportunity_suite.services.kanban import sync_board_columns

			sync_board_columns()

	def before_rename(self, old, new, merge=False):
		check_name(self.doctype, new)

	def after_rename(self, old, new, merge=False):
		if not _in_setup():
			from opportunity_suite.services.kanban import sync_board_columns

			sync_board_columns(renamed=(old, new))

	def after_delete(self):
		if not _in_setup():
			from opportunity_suite.services.kanban import sync_board_columns

			sync_board_columns()


def _in_setup() -> bool:
	return bool(frappe.flags.in_install or frappe.flags.in_patch or frappe.flags.in_migrate)
