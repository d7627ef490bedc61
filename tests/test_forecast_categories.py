"""Forecast categories: the stage's default, the owner's override kept across stage changes, on every path
that saves a deal (desk save, REST-like update, Kanban move, bulk edit, the importer's fast path)."""

import frappe
import pytest
from frappe.desk.doctype.bulk_update.bulk_update import submit_cancel_or_update_docs
from frappe.desk.doctype.kanban_board.kanban_board import update_order_for_single_card

from opportunity_suite.services.forecast_categories import ForecastCategoryError
from opportunity_suite.services.kanban import BOARD_NAME
from tests.factories import make_opportunity, make_user, unique
from tests.import_fixtures import (
	cleanup,  # noqa: F401 (fixture)
	csv_bytes,
	made_by_name,
	new_import,
	prepare,
	run,
)


def _category(name: str) -> tuple:
	return tuple(
		frappe.db.get_value("Opportunity", name, ["forecast_category", "forecast_category_is_manual"])
	)


def test_the_shipped_stages_have_salesforce_categories():
	got = dict(frappe.get_all("Opportunity Stage", fields=["name", "forecast_category"], as_list=True))
	assert got["Prospecting"] == "Pipeline"
	assert got["Proposal/Price Quote"] == "Best Case"
	assert got["Negotiation/Review"] == "Commit"
	assert (got["Closed Won"], got["Closed Lost"]) == ("Closed", "Omitted")


def test_a_deal_takes_its_stage_category_and_follows_stage_changes():
	opp = make_opportunity(sales_stage="Prospecting")
	assert (opp.forecast_category, opp.forecast_category_is_manual) == ("Pipeline", 0)
	opp.sales_stage = "Negotiation/Review"
	opp.save()
	assert (opp.forecast_category, opp.forecast_category_is_manual) == ("Commit", 0)
	opp.sales_stage = "Closed Won"
	opp.save()
	assert opp.forecast_category == "Closed"


def test_the_owners_choice_is_kept_across_stage_changes_until_cleared():
	owner = make_user("Sales User")
	frappe.set_user(owner)
	opp = make_opportunity(sales_stage="Prospecting", assigned_to=owner)
	opp.forecast_category = "Commit"  # the owner is sure of this one
	opp.save()
	assert (opp.forecast_category, opp.forecast_category_is_manual) == ("Commit", 1)
	opp.sales_stage = "Qualification"
	opp.save()
	assert opp.forecast_category == "Commit"
	opp.forecast_category_is_manual = 0
	opp.save()
	assert (opp.forecast_category, opp.forecast_category_is_manual) == ("Pipeline", 0)
	# a closed stage decides, whatever was chosen
	opp.forecast_category = "Best Case"
	opp.save()
	opp.sales_stage, opp.lost_reason = "Closed Lost", "Price"
	opp.save()
	assert (opp.forecast_category, opp.forecast_category_is_manual) == ("Omitted", 0)


def test_a_new_deal_may_come_with_its_category():
	opp = make_opportunity(sales_stage="Prospecting", forecast_category="Omitted")
	assert (opp.forecast_category, opp.forecast_category_is_manual) == ("Omitted", 1)
	same = make_opportunity(sales_stage="Prospecting", forecast_category="Pipeline")
	assert (same.forecast_category, same.forecast_category_is_manual) == ("Pipeline", 0)


def test_an_unknown_category_is_refused():
	with pytest.raises(ForecastCategoryError, match="Forecast Category must be one of"):
		make_opportunity(forecast_category="Maybe")


def test_a_kanban_move_and_a_bulk_edit_set_the_category():
	opp = make_opportunity(sales_stage="Prospecting")
	update_order_for_single_card(BOARD_NAME, opp.name, "Prospecting", "Proposal/Price Quote", 0, 0)
	assert _category(opp.name) == ("Best Case", 0)
	kept = make_opportunity(sales_stage="Prospecting", forecast_category="Commit")
	update_order_for_single_card(BOARD_NAME, kept.name, "Prospecting", "Qualification", 0, 0)
	assert _category(kept.name) == ("Commit", 1)

	failed = submit_cancel_or_update_docs(
		"Opportunity", [opp.name, kept.name], action="update", data={"sales_stage": "Negotiation/Review"}
	)
	assert failed == []
	assert _category(opp.name) == ("Commit", 0)
	assert _category(kept.name) == ("Commit", 1)
	failed = submit_cancel_or_update_docs(
		"Opportunity", [opp.name], action="update", data={"forecast_category": "Omitted"}
	)
	assert failed == [] and _category(opp.name) == ("Omitted", 1)
	for name in (opp.name, kept.name):  # bulk edit commits
		frappe.delete_doc("Opportunity", name, force=True)
	frappe.db.commit()


def test_a_stage_default_change_moves_the_deals_not_chosen_by_hand():
	stage = frappe.get_doc(
		{"doctype": "Opportunity Stage", "stage_name": unique("Stage"), "default_probability": 30}
	).insert()
	assert stage.forecast_category == "Pipeline"
	follows = make_opportunity(sales_stage=stage.name)
	chosen = make_opportunity(sales_stage=stage.name, forecast_category="Omitted")
	stage.forecast_category = "Best Case"
	stage.save()
	assert _category(follows.name) == ("Best Case", 0)
	assert _category(chosen.name) == ("Omitted", 1)
	assert make_opportunity(sales_stage=stage.name).forecast_category == "Best Case"


def test_the_importer_sets_the_category_as_a_save_does(cleanup):  # noqa: F811
	tag = unique("Cat")
	header = ["Opportunity Name", "Sales Stage", "Expected Close Date", "Forecast Category"]
	rows = [
		header,
		[f"{tag} default", "Negotiation/Review", "2026-12-31", ""],
		[f"{tag} chosen", "Prospecting", "2026-12-31", "Best Case"],
		[f"{tag} won", "Closed Won", "2026-12-31", "Commit"],
		[f"{tag} bad", "Prospecting", "2026-12-31", "Maybe"],
	]
	doc = new_import(cleanup, csv_bytes(rows))
	prepare(doc, **{"Forecast Category": "forecast_category"})
	run(doc)
	made = made_by_name(doc, "forecast_category", "forecast_category_is_manual")
	assert (made[f"{tag} default"].forecast_category, made[f"{tag} default"].forecast_category_is_manual) == (
		"Commit",
		0,
	)
	assert (made[f"{tag} chosen"].forecast_category, made[f"{tag} chosen"].forecast_category_is_manual) == (
		"Best Case",
		1,
	)
	assert made[f"{tag} won"].forecast_category == "Closed"
	assert f"{tag} bad" not in made and doc.failed_count == 1

	# an update by the fast path (duplicate policy Overwrite): the stage moves, the category follows
	again = new_import(
		cleanup,
		csv_bytes([["Opportunity Name", "Sales Stage"], [f"{tag} default", "Prospecting"]]),
		duplicate_policy="Overwrite",
		match_fields="opportunity_name",
	)
	prepare(again)
	run(again)
	assert again.updated_count == 1, again.error
	assert frappe.db.get_value(
		"Opportunity", {"opportunity_name": f"{tag} default"}, "forecast_category"
	) == ("Pipeline")
