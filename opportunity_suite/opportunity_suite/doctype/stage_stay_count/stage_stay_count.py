import frappe
from frappe.model.document import Document


class StageStayCount(Document):
	"""Written by services/stage_stays.py only: the Time in Stage report's summary of the stage history."""

	pass


def on_doctype_update():
	# the report reads a period's counts: a range of days, all its columns in the index
	frappe.db.add_index("Stage Stay Count", ["day", "from_stage", "to_stage", "whole_days", "stays"])
