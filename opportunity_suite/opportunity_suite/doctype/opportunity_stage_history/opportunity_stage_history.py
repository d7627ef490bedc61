import frappe
from frappe.model.document import Document


class OpportunityStageHistory(Document):
	"""Written by services/history.py only (one row per change of the tracked fields); read-only in the
	desk."""

	pass


def on_doctype_update():
	# a deal's rows in order: the form's facts, the report's stage durations
	frappe.db.add_index("Opportunity Stage History", ["opportunity", "changed_on"])
	# Time in Stage's exact percentiles: a stage's stays in duration order, over all deals or one assignee's
	# (services/time_in_stage.py), each read from the index alone
	frappe.db.add_index(
		"Opportunity Stage History",
		["stage_changed", "from_stage", "days_in_previous_stage", "changed_on"],
		"stage_stay_duration_index",
	)
	frappe.db.add_index(
		"Opportunity Stage History",
		["assigned_to", "stage_changed", "from_stage", "days_in_previous_stage", "changed_on", "to_stage"],
		"assignee_stage_stay_index",
	)
	# and the ragged ends of a period for one assignee (the summary has their months, not their days)
	frappe.db.add_index(
		"Opportunity Stage History",
		["assigned_to", "changed_on", "stage_changed", "from_stage", "to_stage", "days_in_previous_stage"],
		"assignee_period_index",
	)
	# and a private user's stays (services/stage_viewers.py): the rows of the deals they see, per viewer key,
	# counted and read in duration order from the index alone
	frappe.db.add_index(
		"Opportunity Stage History",
		[
			"viewer_key",
			"stage_changed",
			"from_stage",
			"days_in_previous_stage",
			"changed_on",
			"to_stage",
			"assigned_to",
		],
		"viewer_stay_index",
	)
	# and the stays a private user counts: each of their viewer keys' period is one range, counted from the
	# index alone (the index above holds every stay of a key, in stage and duration order)
	frappe.db.add_index(
		"Opportunity Stage History",
		["viewer_key", "stage_changed", "changed_on", "from_stage", "to_stage", "days_in_previous_stage"],
		"viewer_period_index",
	)
	# and the report's flagged deals: a stage's open deals, longest in it first (kept here, beside the
	# report's other indexes, so as not to touch the Opportunity DocType)
	frappe.db.add_index("Opportunity", ["status", "sales_stage", "stage_since"], "open_stage_since_index")
	# and a private user's count of them: their team's owners' open deals in a stage, by when they entered it
	frappe.db.add_index(
		"Opportunity", ["status", "sales_stage", "owner", "stage_since"], "open_stage_owner_index"
	)
