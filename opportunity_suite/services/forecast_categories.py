"""Forecast categories (Salesforce's names): each stage has a default one, and a deal takes its stage's
unless its owner chose another, which is remembered in `forecast_category_is_manual` so that a later stage
change from anywhere (form, REST, Kanban, bulk edit, import) keeps it. A closed deal is always Closed (won)
or Omitted (lost).

`apply_forecast_category` is called by `validate_opportunity`: the save and the importer's fast path run
the same code."""

import frappe
from frappe import _

CATEGORIES = ("Pipeline", "Best Case", "Commit", "Closed", "Omitted")
# a closed deal's category, by stage type
CLOSED_CATEGORY = {"Won": "Closed", "Lost": "Omitted"}
# the shipped stages' defaults (services/stages.DEFAULT_STAGES); other open stages start as Pipeline
SHIPPED_STAGE_CATEGORIES = {
	"Id. Decision Makers": "Best Case",
	"Perception Analysis": "Best Case",
	"Proposal/Price Quote": "Best Case",
	"Negotiation/Review": "Commit",
}


class ForecastCategoryError(frappe.ValidationError):
	pass


def stage_default_category(stage) -> str:
	"""The category a stage gives its deals: its own, or one that follows from its type (and name, for the
	shipped stages)."""
	if stage.get("stage_type") in CLOSED_CATEGORY:
		return CLOSED_CATEGORY[stage.stage_type]
	if stage.get("forecast_category") in CATEGORIES:
		return stage.forecast_category
	return SHIPPED_STAGE_CATEGORIES.get(stage.get("stage_name") or stage.get("name"), "Pipeline")


def check_category(value, label: str):
	if value not in (None, "") and value not in CATEGORIES:
		frappe.throw(
			_("{0} must be one of {1}, not {2}.").format(
				_(label),
				", ".join(_(c) for c in CATEGORIES),
				frappe.bold(frappe.utils.escape_html(str(value))),
			),
			exc=ForecastCategoryError,
		)


def apply_forecast_category(doc, before=None, stage=None):
	"""Set the deal's forecast category from its stage unless chosen by hand (as probability does):
	- a category given in this save that differs from the stage's default marks it as chosen by hand;
	- clearing `forecast_category_is_manual` takes the stage's default again;
	- a closed stage always gives Closed (won) or Omitted (lost), and clears the mark.
	`stage` is the stage record (or None when the stage doesn't exist: apply_stage refuses that first)."""
	if stage is None:
		return
	check_category(doc.get("forecast_category"), "Forecast Category")
	default = stage_default_category(stage)
	given = doc.get("forecast_category") or None
	if before is None:
		category_given = bool(given)
	else:
		category_given = given != (before.get("forecast_category") or None)
	manual_cleared = (
		before is not None
		and before.get("forecast_category_is_manual")
		and not doc.get("forecast_category_is_manual")
	)
	if manual_cleared:
		doc.forecast_category = default
	elif category_given and given and (given != default or doc.get("forecast_category_is_manual")):
		doc.forecast_category_is_manual = 1
	stage_changed = before is None or before.get("sales_stage") != doc.sales_stage
	if not doc.get("forecast_category_is_manual") and (stage_changed or not doc.get("forecast_category")):
		doc.forecast_category = default
	if stage.stage_type in CLOSED_CATEGORY:
		doc.forecast_category = CLOSED_CATEGORY[stage.stage_type]
		doc.forecast_category_is_manual = 0
	if not doc.get("forecast_category"):
		doc.forecast_category = default
	if doc.get("forecast_category_is_manual") is None:
		doc.forecast_category_is_manual = 0


def follow_stage_category(stage_name: str, category: str):
	"""A stage's default changed: its deals whose category was not chosen by hand take the new one (one
	set-based UPDATE: the category is derived, like the forecast a formula change recomputes)."""
	opp = frappe.qb.DocType("Opportunity")
	(
		frappe.qb.update(opp)
		.set(opp.forecast_category, category)
		.where(
			(opp.sales_stage == stage_name)
			& (opp.forecast_category_is_manual == 0)
			& ((opp.forecast_category != category) | opp.forecast_category.isnull())
		)
		.run()
	)


def fill_missing_categories():
	"""Stages without a category get their default, then deals without one get their stage's (the patch
	that brought categories, and idempotent after it)."""
	for stage in frappe.get_all(
		"Opportunity Stage", fields=["name", "stage_name", "stage_type", "forecast_category"]
	):
		category = stage_default_category(stage)
		if stage.forecast_category != category:
			frappe.db.set_value(
				"Opportunity Stage", stage.name, "forecast_category", category, update_modified=False
			)
		opp = frappe.qb.DocType("Opportunity")
		(
			frappe.qb.update(opp)
			.set(opp.forecast_category, category)
			.where(
				(opp.sales_stage == stage.name)
				& (opp.forecast_category.isnull() | (opp.forecast_category == ""))
			)
			.run()
		)
	frappe.clear_document_cache("Opportunity Stage")
