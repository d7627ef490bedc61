# ruff: noqa: F811 (the cleanup fixture is imported, then used as an argument)
"""Imported opportunities are assigned through Frappe as a save assigns them: a ToDo for `assigned_to`
and `_assign`, so the sidebar, the list's Assigned To filter and the user's to-do list agree with the
field at once; an overwrite that changes `assigned_to` moves the assignment; undo removes them; a user
who can't read opportunities can't be given one."""

import frappe

from tests.factories import make_user, unique
from tests.import_fixtures import (
	assert_accounted,
	cleanup,  # noqa: F401 (fixture)
	created,
	csv_bytes,
	prepare,
	run,
)
from tests.import_fixtures import new_import as shared_new_import

HEADER = ["Opportunity Name", "Sales Stage", "Expected Close Date", "Assigned To"]


def new_import(cleanup, rows, **settings):
	return shared_new_import(cleanup, csv_bytes(rows), **settings)


def open_assignments(names: list[str]) -> dict[str, list[str]]:
	out: dict[str, list[str]] = {}
	for todo in frappe.get_all(
		"ToDo",
		filters={"reference_type": "Opportunity", "reference_name": ("in", names), "status": "Open"},
		fields=["reference_name", "allocated_to"],
		order_by="creation asc",
	):
		out.setdefault(todo.reference_name, []).append(todo.allocated_to)
	return out


def test_imported_opportunities_are_assigned_as_a_save_assigns_them(cleanup):
	tag = unique("Assign")
	seller = make_user("Sales User")
	cleanup["User"].append(seller)
	frappe.db.commit()
	rows = [
		HEADER,
		[f"{tag} 1", "Prospecting", "2026-12-31", seller],
		[f"{tag} 2", "Prospecting", "2026-12-31", ""],  # nobody named: the importing user, as a save
	]
	doc = new_import(cleanup, rows)
	prepare(doc)
	run(doc)
	assert (doc.status, doc.created_count) == ("Completed", 2), doc.error
	by_title = dict(
		frappe.get_all(
			"Opportunity", {"name": ("in", created(doc))}, ["opportunity_name", "name"], as_list=True
		)
	)
	first, second = by_title[f"{tag} 1"], by_title[f"{tag} 2"]
	assert open_assignments([first, second]) == {first: [seller], second: ["Administrator"]}
	assert frappe.parse_json(frappe.db.get_value("Opportunity", first, "_assign")) == [seller]
	todo = frappe.get_all("ToDo", {"reference_name": first}, ["description", "assigned_by", "date"])[0]
	assert todo.description == f"Assignment for Opportunity {first}"
	assert todo.assigned_by == "Administrator" and todo.date

	# the list's "Assigned To" filter and the seller's own to-do list find it
	frappe.set_user(seller)
	assert frappe.get_list("Opportunity", filters={"_assign": ("like", f"%{seller}%")}, pluck="name") == [
		first
	]
	assert frappe.get_list("ToDo", filters={"reference_name": first}, pluck="allocated_to") == [seller]
	frappe.set_user("Administrator")

	# undo takes the assignments with the records
	from opportunity_suite.api.importing import undo_import

	undo_import(doc.name)
	frappe.db.commit()
	assert not frappe.get_all("ToDo", {"reference_name": ("in", [first, second])})


def test_an_overwrite_that_changes_assigned_to_moves_the_assignment(cleanup):
	tag = unique("Reassign")
	first_seller, second_seller = make_user("Sales User"), make_user("Sales User")
	cleanup["User"] += [first_seller, second_seller]
	frappe.db.commit()
	doc = new_import(cleanup, [HEADER, [f"{tag}", "Prospecting", "2026-12-31", first_seller]])
	prepare(doc)
	run(doc)
	[name] = created(doc)
	again = new_import(
		cleanup,
		[HEADER, [f"{tag}", "Prospecting", "2026-12-31", second_seller]],
		duplicate_policy="Overwrite",
		match_fields="opportunity_name",
	)
	prepare(again)
	run(again)
	assert (again.status, again.updated_count) == ("Completed", 1), again.error
	cleanup["Opportunity"].append(name)
	assert frappe.db.get_value("Opportunity", name, "assigned_to") == second_seller
	assert open_assignments([name]) == {name: [second_seller]}
	assert frappe.db.get_value("ToDo", {"reference_name": name, "allocated_to": first_seller}, "status") == (
		"Cancelled"
	)

	# undoing the overwrite gives the record, and its assignment, back to the first seller
	from opportunity_suite.api.importing import undo_import

	undo_import(again.name)
	frappe.db.commit()
	assert frappe.db.get_value("Opportunity", name, "assigned_to") == first_seller
	assert open_assignments([name]) == {name: [first_seller]}


def test_a_user_who_cannot_read_opportunities_is_not_given_one(cleanup):
	tag = unique("NoReader")
	outsider = make_user("Blogger")
	cleanup["User"].append(outsider)
	frappe.db.commit()
	rows = [
		HEADER,
		[f"{tag} 1", "Prospecting", "2026-12-31", outsider],
		[f"{tag} 2", "Prospecting", "2026-12-31", "Administrator"],
	]
	doc = new_import(cleanup, rows)
	prepare(doc)
	run(doc)
	assert (doc.created_count, doc.failed_count) == (1, 1)
	assert_accounted(doc)
	[batch] = frappe.get_all("Opportunity Import Batch", {"import_run": doc.name}, ["failed_rows"])
	[[_row_no, cells, reason]] = frappe.parse_json(batch.failed_rows)
	assert cells[0] == f"{tag} 1"
	assert reason == f"{outsider} can't read opportunities and so can't be assigned this one."
	assert not frappe.get_all("ToDo", {"allocated_to": outsider})
