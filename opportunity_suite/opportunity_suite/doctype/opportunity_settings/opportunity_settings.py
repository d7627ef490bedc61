import frappe
from frappe import _
from frappe.model.document import Document

from opportunity_suite.services import forecast, recompute, visibility


class OpportunitySettings(Document):
	def load_from_db(self):
		super().load_from_db()
		# on every path that reads the settings (form, REST): the recompute's status as it is, a run whose
		# worker died shows Interrupted, not Running (never saved: a save keeps the run's own state)
		self.last_recompute_status = recompute.current_status(self)

	def validate(self):
		recompute.keep_state(self)
		self.forecast_formula = (self.forecast_formula or "").strip() or forecast.DEFAULT_FORMULA
		try:
			forecast.validate_formula(self.forecast_formula)
		except forecast.FormulaError as e:
			frappe.throw(str(e), exc=forecast.FormulaError, title=_("Invalid Forecast Formula"))

	def on_update(self):
		forecast.clear_settings_cache()
		visibility.clear_cache()
		before = self.get_doc_before_save()
		formula_changed = before is None or before.forecast_formula != self.forecast_formula
		turned_on = before is not None and not before.forecast_enabled and self.forecast_enabled
		if frappe.flags.in_install or frappe.flags.in_migrate or not frappe.db.count("Opportunity"):
			return
		if self.forecast_enabled and (formula_changed or turned_on):
			recompute.enqueue_recompute()  # a new run: it supersedes one going on for an older formula
			frappe.msgprint(
				_("Forecast amounts are being recomputed in the background."), alert=True, indicator="blue"
			)
