"""A Frappe Workflow on Opportunity coexists with the stage, probability and forecast logic: on its own
state field, and on sales_stage, where a Kanban move or a bulk edit without an allowed transition is
refused by Frappe and leaves the record as it was. Workflows (and their state field) commit: cleaned up."""

import frappe
import pytest
from frappe.desk.doctype.bulk_update.bulk_update import submit_cancel_or_update_docs
from frappe.desk.doctype.kanban_board.kanban_board import update_order_for_single_card
from frappe.model.workflow import WorkflowPermissionError, WorkflowTransitionError, apply_workflow

from opportunity_suite.services.kanban import BOARD_NAME
from tests.factories import make_opportunity, unique

# Frappe refuses a state change without a transition with one of these
REFUSED = (WorkflowTransitionError, WorkflowPermissionError)


def _states(*names):
	for name in names:
		if not frappe.db.exists("Workflow State", name):
			frappe.get_doc({"doctype": "Workflow State", "workflow_state_name": name}).insert()
	return names


def _actions(*names):
	for name in names:
		if not frappe.db.exists("Workflow Action Master", name):
			frappe.get_doc({"doctype": "Workflow Action Master", "workflow_action_name": name}).insert()


def _make_workflow(state_field: str, states: list[str], transitions: list[tuple[str, str, str]]):
	_states(*states)
	_actions(*{t[1] for t in transitions})
	return frappe.get_doc(
		{
			"doctype": "Workflow",
			"workflow_name": unique("Opportunity flow"),
			"document_type": "Opportunity",
			"workflow_state_field": state_field,
			"is_active": 1,
			"send_email_alert": 0,
			"states": [{"state": s, "doc_status": "0", "allow_edit": "Sales User"} for s in states],
			"transitions": [
				{
					"state": a,
					"action": action,
					"next_state": b,
					"allowed": "Sales User",
					"allow_self_approval": 1,
				}
				for a, action, b in transitions
			],
		}
	).insert()


@pytest.fixture
def cleanup():
	made = {"workflows": [], "opportunities": [], "fields": []}
	yield made
	frappe.db.rollback()
	frappe.set_user("Administrator")
	for name in made["opportunities"]:
		frappe.delete_doc("Opportunity", name, force=True, ignore_permissions=True)
	for name in made["workflows"]:
		frappe.delete_doc("Workflow", name, force=True)
	for fieldname in made["fields"]:
		if frappe.db.exists("Custom Field", f"Opportunity-{fieldname}"):
			frappe.delete_doc("Custom Field", f"Opportunity-{fieldname}", force=True)
	frappe.db.commit()
	frappe.clear_cache(doctype="Opportunity")


def test_workflow_on_its_own_state_field_keeps_the_forecast_working(cleanup):
	field = "approval_state"
	cleanup["fields"].append(field)
	flow = _make_workflow(field, ["Draft", "Approved"], [("Draft", "Approve", "Approved")])
	cleanup["workflows"].append(flow.name)
	frappe.db.commit()
	frappe.clear_cache(doctype="Opportunity")

	opp = make_opportunity(amount=1000)
	cleanup["opportunities"].append(opp.name)
	assert opp.get(field) == "Draft"
	opp.sales_stage = "Negotiation/Review"
	opp.save()
	assert (opp.probability, opp.forecast_amount) == (80, 800)

	opp = apply_workflow(opp, "Approve")
	assert opp.get(field) == "Approved" and opp.forecast_amount == 800
	# setting the state by hand, without a transition, is refused
	opp.reload()
	opp.set(field, "Draft")
	with pytest.raises(REFUSED):
		opp.save()


STAGE_FLOW = ["Prospecting", "Qualification", "Needs Analysis"]


def test_workflow_on_sales_stage_refuses_moves_without_a_transition(cleanup):
	flow = _make_workflow(
		"sales_stage",
		STAGE_FLOW,
		[("Prospecting", "Qualify", "Qualification"), ("Qualification", "Analyse", "Needs Analysis")],
	)
	cleanup["workflows"].append(flow.name)
	frappe.db.commit()
	frappe.clear_cache(doctype="Opportunity")

	opp = make_opportunity(amount=1000)
	cleanup["opportunities"].append(opp.name)
	frappe.db.commit()

	# a Kanban move that skips a step: Frappe's refusal, nothing saved
	frappe.db.savepoint("move")
	with pytest.raises(REFUSED):
		update_order_for_single_card(BOARD_NAME, opp.name, "Prospecting", "Needs Analysis", 0, 0)
	frappe.db.rollback(save_point="move")
	assert frappe.db.get_value(
		"Opportunity", opp.name, ["sales_stage", "probability", "forecast_amount"]
	) == (
		"Prospecting",
		10,
		100,
	)

	# bulk edit (Frappe's Bulk Update, which commits per record): refused, reported as failed, unchanged
	failed = submit_cancel_or_update_docs(
		"Opportunity", [opp.name], action="update", data={"sales_stage": "Needs Analysis"}
	)
	assert failed == [opp.name]
	assert frappe.db.get_value("Opportunity", opp.name, "sales_stage") == "Prospecting"

	# the allowed transition, as a Kanban move: stage, probability and forecast follow
	update_order_for_single_card(BOARD_NAME, opp.name, "Prospecting", "Qualification", 0, 0)
	assert frappe.db.get_value(
		"Opportunity", opp.name, ["sales_stage", "probability", "forecast_amount"]
	) == (
		"Qualification",
		20,
		200,
	)
	# and the workflow action does the same
	opp = apply_workflow(frappe.get_doc("Opportunity", opp.name), "Analyse")
	assert (opp.sales_stage, opp.probability, opp.forecast_amount) == ("Needs Analysis", 25, 250)
