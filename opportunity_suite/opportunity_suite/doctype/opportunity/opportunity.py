import frappe
from frappe.model.document import Document

from opportunity_suite.services.assignment import sync_from_opportunity
from opportunity_suite.services.forecast_categories import may_choose_category
from opportunity_suite.services.history import delete_history, record_save
from opportunity_suite.services.opportunity import validate_opportunity
from opportunity_suite.services.series import autoname, hold_for_delete
from opportunity_suite.services.stale import refresh_after_save, saving


class Opportunity(Document):
	def autoname(self):
		autoname(self)  # the series' number without holding its row until commit (services/series.py)

	def validate(self):
		validate_opportunity(self)  # the same rules an import applies to each row

	def onload(self):
		# the desk knows only role permissions; record visibility and shares decide write (stage path)
		self.set_onload("can_write", bool(frappe.has_permission("Opportunity", "write", doc=self)))
		# the forecast category is chosen by the deal's owner (services/forecast_categories.py)
		self.set_onload("can_choose_forecast_category", may_choose_category(self))

	def on_update(self):
		if self.flags.in_insert:
			# a new deal's assignment waits for on_change (below); its own to-do never counts as an activity
			# (dated the day it is made), so the stale flag is the same before it
			self.flags.assign_on_change = True
		else:
			with saving(self.name):  # the assignment's to-do: the stale flag is refreshed below, once
				sync_from_opportunity(self)
		record_save(self)  # the stage history (services/history.py)
		refresh_after_save(self)  # the stale radar (services/stale.py)

	def on_change(self):
		# A new deal is assigned last in its insert, after the other on_update handlers, Frappe's global search
		# and version rows: Frappe's ToDo.update_in_reference locks the end of the to-do index until the
		# commit, and every concurrent create's to-do goes there, so the creates queue for what follows it.
		if self.flags.pop("assign_on_change", False):
			with saving(self.name):
				sync_from_opportunity(self)

	def after_delete(self):
		delete_history([self.name])
		hold_for_delete(self)  # Frappe gives the number back under the series row's lock
