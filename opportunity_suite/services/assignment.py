"""`assigned_to` and Frappe's Assign To (ToDo, `_assign`) agree both ways.

- Saving an opportunity whose `assigned_to` changed assigns it to that user through Frappe
  (frappe.desk.form.assign_to.add: a ToDo, `_assign`, the notification) and closes the previous
  `assigned_to` user's open assignment.
- An assignment made through Frappe (the form's sidebar, the list's bulk Assign To, an Assignment Rule,
  a ToDo made by hand) sets `assigned_to` to the newest open assignee; when the `assigned_to` user's
  assignment is closed or removed, `assigned_to` goes to the newest remaining assignee (or stays empty).

A flag stops the two directions from feeding each other.

An assignment made through a ToDo follows Frappe's assign-to rules: making, moving or reopening one, or
closing or deleting someone else's, needs write or share permission on the opportunity
(`check_todo_assignment`); otherwise the ToDo is refused and `assigned_to` stays."""

import re

import frappe
from frappe import _
from frappe.desk.form import assign_to

DOCTYPE = "Opportunity"
_HTML_SPECIAL = re.compile("[&<>\"']")
SYNC_FLAG = "opportunity_suite_syncing_assignment"


def _syncing() -> bool:
	return bool(frappe.flags.get(SYNC_FLAG))


def _in_setup() -> bool:
	return bool(frappe.flags.in_install or frappe.flags.in_patch or frappe.flags.in_migrate)


def open_assignees(name: str) -> list[str]:
	"""Open assignees of an opportunity, oldest first."""
	return frappe.get_all(
		"ToDo",
		filters={
			"reference_type": DOCTYPE,
			"reference_name": name,
			"status": "Open",
			"allocated_to": ("is", "set"),
		},
		pluck="allocated_to",
		order_by="creation asc",
	)


def sync_from_opportunity(doc):
	"""After an opportunity is saved: make Frappe's assignment follow `assigned_to`."""
	if _syncing() or _in_setup():
		return
	before = doc.get_doc_before_save()
	previous = before.assigned_to if before is not None else None
	if not doc.assigned_to or (before is not None and doc.assigned_to == previous):
		return
	follow_assigned_to(doc.name, doc.assigned_to, previous, doc.modified, doc.modified_by)


def follow_assigned_to(name: str, assigned_to: str, previous: str | None, modified, modified_by: str):
	"""Assign opportunity `name` to `assigned_to` through Frappe (unless already) and close `previous`'s
	open assignment; the record keeps its `modified` (the saved or imported one)."""
	frappe.flags[SYNC_FLAG] = True
	try:
		assignees = open_assignees(name)
		if assigned_to not in assignees:
			assign_to.add(
				{"assign_to": [assigned_to], "doctype": DOCTYPE, "name": name}, ignore_permissions=True
			)
			# assign_to.add re-writes assigned_to with frappe.db.set_value, which moves `modified` on: put
			# back the saved document's timestamp, or its next save (form, REST) would be refused as stale
			frappe.db.set_value(
				DOCTYPE, name, {"modified": modified, "modified_by": modified_by}, update_modified=False
			)
		if previous and previous != assigned_to and previous in assignees:
			_cancel_assignment(name, previous)
	finally:
		frappe.flags[SYNC_FLAG] = False


def new_assignment_rows(names_and_users: list[tuple[str, str]], assigned_by: str, now) -> list[dict]:
	"""The ToDo rows `assign_to.add` would make for newly created opportunities (name, assignee), for a
	caller that writes many at once (the importer). What it leaves out, and why: the assignment's
	timeline comment and notification (one per record would flood both on a large import)."""
	from frappe.utils import escape_html, getdate

	today = getdate(now)  # the day of the stamp: an assignment is never a planned step (services/stale.py)
	# escape_html works character by character and leaves braces alone, so escaping the translated
	# template and the values apart gives what escape_html(template.format(…)) gives, at a row's cost
	description = escape_html(_("Assignment for {0} {1}")).replace("{0}", escape_html(DOCTYPE))
	return [
		{
			"name": frappe.generate_hash(length=10),
			"creation": now,
			"modified": now,
			"modified_by": assigned_by,
			"owner": assigned_by,
			"docstatus": 0,
			"idx": 0,
			"status": "Open",
			"priority": "Medium",
			"date": today,
			"allocated_to": user,
			"description": description.replace(
				"{1}", escape_html(name) if _HTML_SPECIAL.search(name) else name
			),
			"reference_type": DOCTYPE,
			"reference_name": name,
			"assigned_by": assigned_by,
		}
		for name, user in names_and_users
	]


def _cancel_assignment(name: str, user: str):
	"""Cancel `user`'s open assignment (not through assign_to.remove, which clears `assigned_to`)."""
	for todo_name in frappe.get_all(
		"ToDo",
		filters={"reference_type": DOCTYPE, "reference_name": name, "allocated_to": user, "status": "Open"},
		pluck="name",
	):
		todo = frappe.get_doc("ToDo", todo_name)
		todo.status = "Cancelled"
		todo.save(ignore_permissions=True)


def may_assign(name: str, user: str | None = None) -> bool:
	"""Whether `user` may assign opportunity `name`: write or share permission on it (Frappe's rules,
	so whatever decides who sees the record decides this too)."""
	user = user or frappe.session.user
	doc = frappe.get_doc(DOCTYPE, name)
	return any(frappe.has_permission(DOCTYPE, ptype, doc=doc, user=user) for ptype in ("write", "share"))


_ASSIGNMENT_FIELDS = ("reference_type", "reference_name", "allocated_to", "status")


def _touches_assignment(todo, deleted: bool) -> bool:
	"""Whether this insert, save or delete of a ToDo on an opportunity changes who is assigned, in a way
	Frappe lets only a user who may assign the record do: a user may always close, cancel or delete
	their own assignment."""
	if deleted:
		return todo.status == "Open" and bool(todo.allocated_to) and todo.allocated_to != frappe.session.user
	before = todo.get_doc_before_save()
	if before is None:
		return todo.status == "Open" and bool(todo.allocated_to)
	if all(todo.get(f) == before.get(f) for f in _ASSIGNMENT_FIELDS):
		return False
	only_ends_own = (
		all(todo.get(f) == before.get(f) for f in ("reference_type", "reference_name", "allocated_to"))
		and todo.status != "Open"
		and todo.allocated_to == frappe.session.user
	)
	return not only_ends_own


def check_todo_assignment(todo, deleted: bool = False):
	"""Before a ToDo on an opportunity is saved or deleted by a caller (REST, the desk's ToDo form):
	refuse it when it changes the assignment and the user may not assign the opportunity. Frappe's own
	assign_to (which checks first), Assignment Rules and the app's syncing pass `ignore_permissions`."""
	if todo.flags.ignore_permissions or _syncing() or _in_setup():
		return
	if not _touches_assignment(todo, deleted):
		return
	before = None if deleted else todo.get_doc_before_save()
	references = {(todo.reference_type, todo.reference_name)}
	if before is not None:
		references.add((before.reference_type, before.reference_name))
	for reference_type, name in references:
		if reference_type != DOCTYPE or not name or not frappe.db.exists(DOCTYPE, name):
			continue
		if not may_assign(name):
			frappe.throw(
				_("You may not assign {0} {1}: assigning needs write or share permission on it.").format(
					_(DOCTYPE), name
				),
				exc=frappe.PermissionError,
				title=_("Not permitted"),
			)


def sync_from_todo(todo, deleted: bool = False):
	"""After a ToDo on an opportunity is made, reopened, closed, cancelled or deleted: make `assigned_to`
	follow the assignments."""
	if _syncing() or _in_setup() or todo.reference_type != DOCTYPE or not todo.reference_name:
		return
	is_new = todo.get_doc_before_save() is None
	if not (deleted or is_new or todo.has_value_changed("status") or todo.has_value_changed("allocated_to")):
		return
	current = frappe.db.get_value(DOCTYPE, todo.reference_name, "assigned_to")
	if current is None and not frappe.db.exists(DOCTYPE, todo.reference_name):
		return
	if todo.status == "Open" and todo.allocated_to and not deleted:
		wanted = todo.allocated_to
	elif todo.allocated_to == current:
		remaining = open_assignees(todo.reference_name)
		wanted = remaining[-1] if remaining else None
	else:
		return
	if wanted != current:
		frappe.db.set_value(DOCTYPE, todo.reference_name, "assigned_to", wanted, update_modified=False)


def restore_after_unassign(names: list[str], before: dict[str, str | None]):
	"""Frappe's unassign (assign_to.set_status) clears `assigned_to` whoever was removed: put back the
	assignee that is still assigned, else the newest remaining one."""
	for name in names:
		remaining = open_assignees(name)
		previous = before.get(name)
		wanted = previous if previous in remaining else (remaining[-1] if remaining else None)
		if frappe.db.get_value(DOCTYPE, name, "assigned_to") != wanted:
			frappe.db.set_value(DOCTYPE, name, "assigned_to", wanted, update_modified=False)
	from opportunity_suite.services import totals  # a dimension of the pre-aggregated totals

	totals.refresh(names)


def assigned_to_of(names: list[str]) -> dict[str, str | None]:
	if not names:
		return {}
	return dict(
		frappe.get_all(DOCTYPE, filters={"name": ("in", names)}, fields=["name", "assigned_to"], as_list=True)
	)
