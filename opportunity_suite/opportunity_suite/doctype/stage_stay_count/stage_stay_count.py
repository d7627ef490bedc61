import frappe
from frappe.model.document import Document


class StageStayCount(Document):
	"""Written by services/stage_stays.py only: the Time in Stage report's summary of the stage history."""

	pass


def on_doctype_update():
	# the report reads a period's counts: all deals' (or one assignee's) months and days, all the columns it
	# reads in the index
	frappe.db.add_index(
		"Stage Stay Count",
		["assigned_to", "span", "day", "from_stage", "to_stage", "whole_days", "stays"],
		"period_stays_index",
	)
	# the index of the summary before it had months and assignees: every write kept it for nothing
	table = "tabStage Stay Count"
	old = "day_from_stage_to_stage_whole_days_stays_index"
	if frappe.db.has_index(table, old):
		frappe.db.commit()
		frappe.db.sql_ddl(f"ALTER TABLE `{table}` DROP INDEX `{old}`")
