"""Opportunity stages: the shipped picklist, and what a stage means for an opportunity."""

import frappe
from frappe import _
from frappe.utils import flt, today

# Vtiger's ten sales stages: (name, default probability, type)
DEFAULT_STAGES = (
	("Prospecting", 10, "Open"),
	("Qualification", 20, "Open"),
	("Needs Analysis", 25, "Open"),
	("Value Proposition", 30, "Open"),
	("Id. Decision Makers", 40, "Open"),
	("Perception Analysis", 50, "Open"),
	("Proposal/Price Quote", 65, "Open"),
	("Negotiation/Review", 80, "Open"),
	("Closed Won", 100, "Won"),
	("Closed Lost", 0, "Lost"),
)


# the probability a closed opportunity always has, by stage type
CLOSED_PROBABILITY = {"Won": 100, "Lost": 0}


class StageError(frappe.ValidationError):
	pass


def ensure_default_stages():
	"""Create the shipped stages that are missing (idempotent: edited or renamed stages are left alone)."""
	if frappe.db.count("Opportunity Stage"):
		return
	for sequence, (name, probability, stage_type) in enumerate(DEFAULT_STAGES, start=1):
		frappe.get_doc(
			{
				"doctype": "Opportunity Stage",
				"stage_name": name,
				"sequence": sequence * 10,
				"default_probability": probability,
				"stage_type": stage_type,
			}
		).insert(ignore_permissions=True)


def get_stage(name: str):
	"""The stage record from Frappe's document cache (cleared whenever a stage is saved), or None."""
	if not name:
		return None
	try:
		return frappe.get_cached_doc("Opportunity Stage", name)
	except frappe.DoesNotExistError:
		frappe.clear_last_message()
		return None


def apply_stage(doc, before=None, stage=None, require_lost_reason: bool = True):
	"""Status, probability and closed-on date that follow from the opportunity's stage.

	The probability comes from the stage's default unless it was set by hand, which is remembered in
	`probability_is_manual` so that a stage change from anywhere (form, REST, Kanban, import) respects it:
	- a probability given in this save that differs from the stage's default marks it as set by hand;
	- clearing `probability_is_manual` takes the stage's default again;
	- a Won stage always means 100 %, a Lost stage 0 % (and clears the manual mark).

	`stage` is the record of `doc.sales_stage` when the caller has it at hand (the importer reads each
	stage once per batch); by default it comes from the document cache. `require_lost_reason=False` is
	for imports: a closed-lost deal of the past comes along without a reason."""
	if not doc.sales_stage:
		return  # Frappe's mandatory check names the missing field
	if stage is None:
		stage = get_stage(doc.sales_stage)
	if not stage:
		frappe.throw(
			# the value as given (REST, an import): shown as text
			_("Sales Stage {0} does not exist.").format(
				frappe.bold(frappe.utils.escape_html(doc.sales_stage))
			),
			exc=StageError,
		)
	stage_changed = before is None or before.sales_stage != doc.sales_stage
	if stage.disabled and stage_changed:
		frappe.throw(
			_("Sales Stage {0} is disabled and can't be chosen.").format(frappe.bold(doc.sales_stage)),
			exc=StageError,
		)

	default = flt(stage.default_probability)
	if before is None:
		# a new record's 0 % counts as "not given" unless marked as set by hand: the desk's quick entry
		# (no form script runs there) and many REST clients send 0 for a number the user left empty
		probability_given = doc.probability not in (None, "") and (
			flt(doc.probability) != 0 or doc.probability_is_manual
		)
	else:
		probability_given = flt(doc.probability) != flt(before.probability)
	manual_cleared = before is not None and before.probability_is_manual and not doc.probability_is_manual

	if manual_cleared:
		doc.probability = default
	elif probability_given and (flt(doc.probability) != default or doc.probability_is_manual):
		doc.probability_is_manual = 1
	if not doc.probability_is_manual and (stage_changed or doc.probability is None or doc.probability == ""):
		doc.probability = default
	if stage.stage_type in CLOSED_PROBABILITY:
		# a closed deal is certain, whatever was typed before (Vtiger, Salesforce): a won deal forecasts
		# its whole amount. The earlier value stays in the document's history (Opportunity tracks changes).
		doc.probability = CLOSED_PROBABILITY[stage.stage_type]
		doc.probability_is_manual = 0

	previous_status = before.status if before is not None else None
	doc.status = stage.stage_type
	if doc.status == "Open":
		doc.closed_on = None
	elif doc.status != previous_status or not doc.closed_on:
		doc.closed_on = today()

	if (
		require_lost_reason
		and doc.status == "Lost"
		and not (doc.lost_reason or "").strip()
		and not doc.get("loss_reason")  # the Lost Reason picklist (services/win_loss.py); either will do
	):
		frappe.throw(
			_("Lost Reason is required when the stage is {0}.").format(frappe.bold(doc.sales_stage)),
			exc=frappe.MandatoryError,
			title=_("Missing Lost Reason"),
		)
