"""The Kanban board by stage: shipped, columns in step with the stages, a card move goes through the
Opportunity controller."""

import frappe
import pytest
from frappe.desk.doctype.kanban_board.kanban_board import update_order_for_single_card

from opportunity_suite.services.kanban import BOARD_NAME, ensure_stage_board
from tests.factories import make_opportunity, make_user, unique


def _columns():
	board = frappe.get_doc("Kanban Board", BOARD_NAME)
	return [(c.column_name, c.status) for c in board.columns]


def _new_stage(**values):
	return frappe.get_doc(
		{"doctype": "Opportunity Stage", "stage_name": unique("Stage"), "default_probability": 55, **values}
	).insert()


def test_the_board_ships_on_sales_stage_with_a_column_per_stage_in_order():
	board = frappe.get_doc("Kanban Board", BOARD_NAME)
	assert (board.reference_doctype, board.field_name, board.private) == ("Opportunity", "sales_stage", 0)
	stages = frappe.get_all("Opportunity Stage", order_by="sequence asc, name asc", pluck="name")
	assert [c.column_name for c in board.columns] == stages
	indicators = {c.column_name: c.indicator for c in board.columns}
	assert (indicators["Closed Won"], indicators["Closed Lost"], indicators["Prospecting"]) == (
		"Green",
		"Red",
		"Blue",
	)
	ensure_stage_board()  # idempotent
	assert len(frappe.get_doc("Kanban Board", BOARD_NAME).columns) == len(stages)


def test_columns_follow_new_reordered_disabled_renamed_and_deleted_stages():
	stage = _new_stage(sequence=15)  # between Prospecting (10) and Qualification (20)
	names = [c for c, _s in _columns()]
	assert names.index(stage.name) == names.index("Prospecting") + 1

	stage.sequence = 85
	stage.save()
	names = [c for c, _s in _columns()]
	assert names.index(stage.name) == names.index("Negotiation/Review") + 1

	stage.disabled = 1
	stage.save()
	assert (stage.name, "Archived") in _columns()

	new_name = unique("Renamed")
	frappe.rename_doc("Opportunity Stage", stage.name, new_name)
	names = [c for c, _s in _columns()]
	assert new_name in names and stage.name not in names

	frappe.delete_doc("Opportunity Stage", new_name)
	assert new_name not in [c for c, _s in _columns()]


def _move(opp, to_stage):
	return update_order_for_single_card(BOARD_NAME, opp.name, opp.sales_stage, to_stage, 0, 0)


def test_moving_a_card_sets_the_stage_probability_and_forecast():
	opp = make_opportunity(amount=1000, sales_stage="Prospecting")
	assert (opp.probability, opp.forecast_amount) == (10, 100)
	_move(opp, "Negotiation/Review")
	opp.reload()
	assert (opp.sales_stage, opp.probability, opp.forecast_amount, opp.status) == (
		"Negotiation/Review",
		80,
		800,
		"Open",
	)


def test_a_card_move_keeps_a_probability_set_by_hand():
	opp = make_opportunity(amount=1000, sales_stage="Prospecting", probability=42)
	assert opp.probability_is_manual
	_move(opp, "Negotiation/Review")
	opp.reload()
	assert (opp.probability, opp.forecast_amount) == (42, 420)


def test_moving_a_card_to_a_new_stage_uses_its_default_probability():
	stage = _new_stage(sequence=33)
	opp = make_opportunity(amount=200)
	_move(opp, stage.name)
	opp.reload()
	assert (opp.probability, opp.forecast_amount) == (55, 110)


def test_a_move_the_controller_refuses_changes_nothing():
	opp = make_opportunity(amount=1000)
	board_before = [c.order for c in frappe.get_doc("Kanban Board", BOARD_NAME).columns]
	frappe.db.savepoint("kanban_move")
	with pytest.raises(frappe.MandatoryError):
		_move(opp, "Closed Lost")  # Closed Lost needs a lost reason
	frappe.db.rollback(save_point="kanban_move")  # Frappe's request handler rolls a failed request back
	assert frappe.db.get_value("Opportunity", opp.name, ["sales_stage", "probability", "status"]) == (
		"Prospecting",
		10,
		"Open",
	)
	assert [c.order for c in frappe.get_doc("Kanban Board", BOARD_NAME).columns] == board_before


def test_a_user_without_write_cannot_move_cards():
	reader = make_user("Blogger")
	opp = make_opportunity(amount=1000)
	frappe.share.add("Opportunity", opp.name, reader, read=1)
	frappe.set_user(reader)
	with pytest.raises(frappe.PermissionError):
		_move(opp, "Qualification")
	frappe.set_user("Administrator")
	assert frappe.db.get_value("Opportunity", opp.name, "sales_stage") == "Prospecting"


def test_the_desk_moves_cards_through_the_app_method_allowed_and_denied():
	"""The desk's call lands on the app's method (tried again when the board was saved in between, as it
	is when the board opens: tests/test_browser_desk.py drags a card at once), with Frappe's checks."""
	from opportunity_suite.api.kanban import update_order_for_single_card as app_move

	frappe_method = "frappe.desk.doctype.kanban_board.kanban_board.update_order_for_single_card"
	assert frappe.get_hooks("override_whitelisted_methods")[frappe_method] == [
		"opportunity_suite.api.kanban.update_order_for_single_card"
	]
	seller, reader = make_user("Sales User"), make_user("Blogger")
	mine = make_opportunity(amount=1000, assigned_to=seller)
	frappe.share.add("Opportunity", mine.name, reader, read=1)
	frappe.set_user(reader)
	with pytest.raises(frappe.PermissionError):
		app_move(BOARD_NAME, mine.name, "Prospecting", "Qualification", 0, 0)
	frappe.set_user(seller)
	app_move(BOARD_NAME, mine.name, "Prospecting", "Qualification", 0, 0)
	frappe.set_user("Administrator")
	assert frappe.db.get_value("Opportunity", mine.name, ["sales_stage", "probability"]) == (
		"Qualification",
		20,
	)
