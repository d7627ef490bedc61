from frappe.model.document import Document

from opportunity_suite.services import alerts
from opportunity_suite.services.alerts import outgoing


class AlertRule(Document):
	def validate(self):
		alerts.validate_rule(self)
		before = self.get_doc_before_save()
		if self.enabled and (before is None or not before.enabled):
			# switched (back) on: its failure streak starts again
			self.consecutive_failures = 0
		outgoing.warn_if_no_outgoing_account(self)

	def on_update(self):
		alerts.clear_rules_cache_on_change()

	def on_trash(self):
		alerts.clear_rules_cache_on_change()

	def after_rename(self, old_name, new_name, merge=False):
		alerts.clear_rules_cache_on_change()
