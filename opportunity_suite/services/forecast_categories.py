"""Forecast categories (Salesforce's names): each stage has a default one, and a deal takes its stage's
unless its owner chose another, which is remembered in `forecast_category_is_manual` so that a later stage
change from anywhere (form, REST, Kanban, bulk edit, import) keeps it. A closed deal is always Closed (won)
or Omitted (lost). The choice is the owner's (`may_choose_category`: the deal's Assigned To, the managers
above them, Sales Managers); a stage change by anyone else still moves a category not chosen by hand.

`apply_forecast_category` is called by `validate_opportunity`: the save and the importer's fast path run
the same code, so the check is made on every path (desk, REST, `frappe.client.set_value`, bulk edit,
Kanban, Frappe's Data Import, Opportunity Import)."""

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import cint

from opportunity_suite.services.visibility import team_of

CATEGORIES = ("Pipeline", "Best Case", "Commit", "Closed", "Omitted")
# a closed deal's category, by stage type
CLOSED_CATEGORY = {"Won": "Closed", "Lost": "Omitted"}
# who may choose any deal's category, whoever owns it
CHOOSE_ANY_ROLES = frozenset({"Sales Manager", "System Manager"})
# the shipped stages' defaults (services/stages.DEFAULT_STAGES); other open stages start as Pipeline
SHIPPED_STAGE_CATEGORIES = {
	"Id. Decision Makers": "Best Case",
	"Perception Analysis": "Best Case",
	"Proposal/Price Quote": "Best Case",
	"Negotiation/Review": "Commit",
}


class ForecastCategoryError(frappe.ValidationError):
	pass


class ForecastCategoryPermissionError(frappe.PermissionError):
	"""A stored deal's category chosen (or given up) by someone who doesn't own it."""


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


def deal_owner(deal) -> str | None:
	"""Who owns a deal, as Vtiger's "owner": its Assigned To; Frappe's `owner` (who created it) when nobody is."""
	return deal.get("assigned_to") or deal.get("owner") or None


def may_choose_category(deal, user: str | None = None) -> bool:
	"""Whether `user` may choose the stored `deal`'s forecast category by hand (or give the choice up): its
	owner (`deal_owner`), the managers above the owner in the reporting line (`visibility.team_of`), Sales
	Managers and System Managers. `deal` is the record as stored (a Document or a dict of its values)."""
	user = user or frappe.session.user
	if user == "Administrator" or CHOOSE_ANY_ROLES & set(frappe.get_roles(user)):
		return True
	owner = deal_owner(deal)
	return bool(owner) and owner in team_of(user)


def apply_forecast_category(doc, before=None, stage=None):
	"""Set the deal's forecast category from its stage unless chosen by hand (as probability does):
	- a category given in this save that differs from the stage's default marks it as chosen by hand;
	- clearing `forecast_category_is_manual` takes the stage's default again;
	- a closed stage always gives Closed (won) or Omitted (lost), and clears the mark.
	`stage` is the stage record (or None when the stage doesn't exist: apply_stage refuses that first).

	On a stored deal, only who `may_choose_category` may change the category or the mark by hand: anyone
	else's save that would store another category or mark than the stage alone gives is refused
	(ForecastCategoryPermissionError); server code saving with `ignore_permissions` is not. A stage change by
	anyone still moves a category not chosen by hand.
	A new deal's creator may give it one (they own it, or are entering someone else's deal)."""
	if stage is None:
		return
	check_category(doc.get("forecast_category"), "Forecast Category")
	sent = (doc.get("forecast_category") or None, cint(doc.get("forecast_category_is_manual")))
	category, manual = _derive(sent, before, stage, doc.get("sales_stage"))
	if before is not None and not _saved_by_server_code(doc):
		stored = (before.get("forecast_category") or None, cint(before.get("forecast_category_is_manual")))
		if sent != stored and (category, manual) != _derive(stored, before, stage, doc.get("sales_stage")):
			_check_may_choose(doc, before)
	doc.forecast_category, doc.forecast_category_is_manual = category, manual


def _derive(sent: tuple, before, stage, sales_stage) -> tuple[str, int]:
	"""(category, chosen by hand) a save stores from what it was sent: (category, mark)."""
	given, manual = sent
	default = stage_default_category(stage)
	category = given
	if before is None:
		category_given = bool(given)
	else:
		category_given = given != (before.get("forecast_category") or None)
	if before is not None and cint(before.get("forecast_category_is_manual")) and not manual:
		category = default  # the mark cleared: the stage's default again
	elif category_given and given and (given != default or manual):
		manual = 1
	stage_changed = before is None or before.get("sales_stage") != sales_stage
	if not manual and (stage_changed or not category):
		category = default
	if stage.stage_type in CLOSED_CATEGORY:
		category, manual = CLOSED_CATEGORY[stage.stage_type], 0
	return category or default, manual


def _saved_by_server_code(doc) -> bool:
	"""A save the app's own code makes past permissions (an Alert Rule's Update Field action, set up by a
	manager): Frappe's `ignore_permissions`, which no desk, REST, bulk edit or import path sets."""
	return isinstance(doc, Document) and bool(doc.flags.ignore_permissions)


def _check_may_choose(doc, before):
	if may_choose_category(before):
		return
	frappe.throw(
		_(
			"Only the owner of {0} ({1}), their managers and Sales Managers may change its forecast category."
		).format(
			frappe.bold(frappe.utils.escape_html(doc.get("name") or "")),
			frappe.utils.escape_html(deal_owner(before) or ""),
		),
		exc=ForecastCategoryPermissionError,
		title=_("Not Permitted"),
	)


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
