"""Assigning an opportunity through a ToDo follows Frappe's assign-to rules: only a user with write or
share permission on the opportunity may make, move or reopen its assignment (issue 12, item 4)."""

import frappe
import pytest

from tests.factories import make_opportunity, make_user
from tests.http_users import Client, make_login_users, remove_login_users
from tests.records_fixtures import delete_committed


@pytest.fixture(scope="module")
def setting():
	"""A target opportunity assigned to `owner`; `limited` is a Sales User a User Permission keeps to
	another opportunity (so the target is not theirs to read); `visitor` is a Website User (no role)."""
	users = make_login_users(owner="Sales User", seller="Sales User", limited="Sales User", visitor="")
	target = make_opportunity(assigned_to=users["owner"])
	other = make_opportunity()
	frappe.get_doc(
		{
			"doctype": "User Permission",
			"user": users["limited"],
			"allow": "Opportunity",
			"for_value": other.name,
		}
	).insert()
	frappe.db.commit()
	try:
		yield frappe._dict(users=users, target=target.name, other=other.name)
	finally:
		frappe.db.rollback()
		for name in frappe.get_all(
			"ToDo", {"reference_name": ("in", [target.name, other.name])}, pluck="name"
		):
			frappe.delete_doc("ToDo", name, force=True, ignore_permissions=True)
		frappe.db.delete("User Permission", {"user": users["limited"]})
		delete_committed("Opportunity", [target.name, other.name])
		frappe.db.commit()
		remove_login_users(users)


def _take(web_server, user: str, opportunity: str):
	return Client(web_server, user).call(
		"/api/resource/ToDo",
		{
			"reference_type": "Opportunity",
			"reference_name": opportunity,
			"allocated_to": user,
			"description": "Mine",
		},
	)


def _assigned_to(name: str) -> str | None:
	frappe.db.rollback()
	return frappe.db.get_value("Opportunity", name, "assigned_to")


def _todos(name: str, user: str) -> list[str]:
	return frappe.get_all("ToDo", {"reference_name": name, "allocated_to": user}, pluck="name")


@pytest.mark.slow
@pytest.mark.parametrize("who", ["limited", "visitor"])
def test_a_user_who_may_not_write_the_opportunity_cannot_take_it_over_rest(web_server, setting, who):
	user = setting.users[who]
	status, body = _take(web_server, user, setting.target)
	assert status == 403, body
	assert _assigned_to(setting.target) == setting.users["owner"]
	assert not _todos(setting.target, user)


@pytest.mark.slow
def test_a_sales_user_who_may_write_it_takes_it_over_rest(web_server, setting):
	user = setting.users["seller"]
	status, body = _take(web_server, user, setting.target)
	assert status == 200, body
	assert _assigned_to(setting.target) == user


def test_a_user_may_close_their_own_assignment_but_not_reopen_it_without_write():
	user = make_user("Sales User")
	opp = make_opportunity(assigned_to=user)
	other = make_opportunity()
	frappe.get_doc(
		{"doctype": "User Permission", "user": user, "allow": "Opportunity", "for_value": other.name}
	).insert()
	todo = frappe.get_doc("ToDo", _todos(opp.name, user)[0])
	frappe.set_user(user)
	todo.status = "Closed"
	todo.save()
	todo.reload()
	todo.status = "Open"
	with pytest.raises(frappe.PermissionError):
		todo.save()


def test_deleting_someone_elses_open_assignment_needs_write():
	assignee, assigner = make_user("Sales User"), make_user("Sales User")
	opp = make_opportunity()
	other = make_opportunity()
	frappe.set_user(assigner)
	todo = frappe.get_doc(
		{
			"doctype": "ToDo",
			"reference_type": "Opportunity",
			"reference_name": opp.name,
			"allocated_to": assignee,
			"assigned_by": assigner,
			"description": "Call",
		}
	).insert()
	assert frappe.db.get_value("Opportunity", opp.name, "assigned_to") == assignee
	frappe.set_user("Administrator")
	frappe.get_doc(
		{"doctype": "User Permission", "user": assigner, "allow": "Opportunity", "for_value": other.name}
	).insert()
	frappe.set_user(assigner)
	with pytest.raises(frappe.PermissionError):
		frappe.delete_doc("ToDo", todo.name)
	assert frappe.db.get_value("Opportunity", opp.name, "assigned_to") == assignee
