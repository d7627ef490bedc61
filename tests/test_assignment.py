"""`assigned_to` and Frappe's Assign To agree both ways."""

import json

import frappe
from frappe.desk.form import assign_to

from tests.factories import make_opportunity, make_user


def _assign(name):
	return json.loads(frappe.db.get_value("Opportunity", name, "_assign") or "[]")


def _call(cmd, **form):
	"""A desk request: Frappe's handler, with the app's overrides of whitelisted methods."""
	from frappe.handler import execute_cmd

	frappe.local.form_dict = frappe._dict(form)
	frappe.local.request = frappe._dict(method="POST")
	try:
		return execute_cmd(cmd)
	finally:
		frappe.local.form_dict = frappe._dict()
		del frappe.local.request


def test_new_opportunity_is_assigned_to_its_assigned_to_user():
	user = make_user("Sales User")
	opp = make_opportunity(assigned_to=user)
	assert _assign(opp.name) == [user]
	assert frappe.db.exists(
		"ToDo",
		{"reference_type": "Opportunity", "reference_name": opp.name, "allocated_to": user, "status": "Open"},
	)


def test_changing_assigned_to_moves_the_assignment():
	first, second = make_user("Sales User"), make_user("Sales User")
	opp = make_opportunity(assigned_to=first)
	opp.reload()
	opp.assigned_to = second
	opp.save()
	assert _assign(opp.name) == [second]
	opp.reload()
	opp.amount = 5
	opp.save()  # a save that doesn't change assigned_to leaves the assignments alone
	assert _assign(opp.name) == [second]


def test_sidebar_assignment_sets_assigned_to_and_removal_falls_back():
	first, second = make_user("Sales User"), make_user("Sales User")
	opp = make_opportunity(assigned_to=first)
	assign_to.add({"assign_to": [second], "doctype": "Opportunity", "name": opp.name})
	assert frappe.db.get_value("Opportunity", opp.name, "assigned_to") == second
	assert set(_assign(opp.name)) == {first, second}
	_call("frappe.desk.form.assign_to.remove", doctype="Opportunity", name=opp.name, assign_to=second)
	assert frappe.db.get_value("Opportunity", opp.name, "assigned_to") == first
	_call("frappe.desk.form.assign_to.remove", doctype="Opportunity", name=opp.name, assign_to=first)
	assert frappe.db.get_value("Opportunity", opp.name, "assigned_to") is None
	assert _assign(opp.name) == []


def test_removing_another_assignee_keeps_assigned_to():
	first, second = make_user("Sales User"), make_user("Sales User")
	opp = make_opportunity(assigned_to=first)
	assign_to.add({"assign_to": [second], "doctype": "Opportunity", "name": opp.name})
	frappe.db.set_value("Opportunity", opp.name, "assigned_to", first)
	_call(
		"frappe.desk.form.assign_to.remove_multiple", doctype="Opportunity", names=frappe.as_json([opp.name])
	)
	assert frappe.db.get_value("Opportunity", opp.name, "assigned_to") is None
	assign_to.add({"assign_to": [second], "doctype": "Opportunity", "name": opp.name})
	assign_to.add({"assign_to": [first], "doctype": "Opportunity", "name": opp.name})
	_call("frappe.desk.form.assign_to.remove", doctype="Opportunity", name=opp.name, assign_to=second)
	assert frappe.db.get_value("Opportunity", opp.name, "assigned_to") == first


def test_bulk_assign_sets_assigned_to_on_every_record():
	user = make_user("Sales User")
	opps = [make_opportunity() for _ in range(3)]
	assign_to.add_multiple(
		{
			"doctype": "Opportunity",
			"name": json.dumps([o.name for o in opps]),
			"assign_to": json.dumps([user]),
		}
	)
	for opp in opps:
		assert frappe.db.get_value("Opportunity", opp.name, "assigned_to") == user
		assert user in _assign(opp.name)


def test_a_todo_made_by_hand_counts_as_an_assignment():
	user = make_user("Sales User")
	opp = make_opportunity()
	todo = frappe.get_doc(
		{
			"doctype": "ToDo",
			"allocated_to": user,
			"reference_type": "Opportunity",
			"reference_name": opp.name,
			"description": "call",
		}
	).insert()
	assert frappe.db.get_value("Opportunity", opp.name, "assigned_to") == user
	todo.delete()
	assert frappe.db.get_value("Opportunity", opp.name, "assigned_to") == "Administrator"


def test_the_saved_document_can_be_saved_again_without_a_reload():
	"""The assignment made after insert must not leave the in-memory document stale."""
	user = make_user("Sales User")
	opp = make_opportunity(assigned_to=user)
	opp.amount = 10
	opp.save()
	opp.assigned_to = "Administrator"
	opp.save()
	opp.amount = 20
	opp.save()
	assert _assign(opp.name) == ["Administrator"]
