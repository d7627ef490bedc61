import frappe
from frappe.model.document import Document


class OpportunityStageHistory(Document):
	"""Written by services/history.py only (one row per change of the tracked fields); read-only in the
	desk."""

	pass


def on_doctype_update():
	# a deal's rows in order: the form's facts, the report's stage durations
	frappe.db.add_index("Opportunity Stage History", ["opportunity", "changed_on"])
