"""A create over REST and through the desk's save makes everything an assignment makes, now that the
series' number is taken outside the insert's transaction (services/series.py; the assignment stays in it):
`assigned_to` and Frappe's `_assign`, the assignee's ToDo, the timeline's "assigned" comment, the
assignee's notification, the stage history row, and the desk's answer to the save already lists the
assignee (the form's sidebar shows them without a reload)."""

import json
import time

import frappe
import pytest
from frappe.utils import add_days, today

from tests.conftest import ARTIFACTS, BENCH_DIR
from tests.factories import unique
from tests.http_users import Client, make_login_users, remove_login_users
from tests.processes import BenchProcess
from tests.records_fixtures import delete_committed


@pytest.fixture
def people():
	users = make_login_users(creator="Sales User", assignee="Sales User")
	made: list[str] = []
	yield users, made
	frappe.db.rollback()
	frappe.db.delete("ToDo", {"reference_type": "Opportunity", "reference_name": ("in", made or [""])})
	frappe.db.delete(
		"Notification Log", {"document_type": "Opportunity", "document_name": ("in", made or [""])}
	)
	delete_committed("Opportunity", made)
	frappe.db.commit()
	remove_login_users(users)


def _new(assignee: str) -> dict:
	return {
		"opportunity_name": unique("Create path"),
		"sales_stage": "Prospecting",
		"amount": 1200,
		"expected_close_date": add_days(today(), 30),
		"assigned_to": assignee,
	}


def _run_notification_jobs():
	"""Frappe enqueues the assignment's notification (the default queue): a worker runs what is queued."""
	worker = BenchProcess(
		"create-path-worker", ["bench", "worker", "--queue", "default", "--burst"], BENCH_DIR, ARTIFACTS
	)
	# the queue holds the earlier tests' jobs too (about a second each: hundreds late in the whole suite)
	deadline = time.monotonic() + 600
	while worker.running() and time.monotonic() < deadline:
		time.sleep(0.5)
	worker.stop()


def _assert_assigned(name: str, creator: str, assignee: str):
	frappe.db.rollback()  # what the server committed
	assert frappe.db.get_value("Opportunity", name, "assigned_to") == assignee
	assert json.loads(frappe.db.get_value("Opportunity", name, "_assign") or "[]") == [assignee]
	todo = frappe.get_all(
		"ToDo",
		filters={"reference_type": "Opportunity", "reference_name": name, "status": "Open"},
		fields=["allocated_to", "assigned_by"],
	)
	assert todo == [{"allocated_to": assignee, "assigned_by": creator}]
	assert frappe.db.exists(
		"Comment", {"reference_doctype": "Opportunity", "reference_name": name, "comment_type": "Assigned"}
	)
	history = frappe.get_all(
		"Opportunity Stage History", filters={"opportunity": name}, fields=["to_stage", "changed_by", "via"]
	)
	assert len(history) == 1 and history[0].to_stage == "Prospecting" and history[0].changed_by == creator
	_run_notification_jobs()
	frappe.db.rollback()
	assert frappe.get_all(
		"Notification Log",
		filters={
			"for_user": assignee,
			"document_type": "Opportunity",
			"document_name": name,
			"type": "Assignment",
		},
	)


def test_a_create_over_rest_assigns_notifies_and_records_history(web_server, people):
	users, made = people
	creator = Client(web_server, users["creator"])
	status, body = creator.call("/api/resource/Opportunity", _new(users["assignee"]))
	assert status == 200, body
	name = body["data"]["name"]
	made.append(name)
	assert name.startswith("OPP-") and body["data"]["assigned_to"] == users["assignee"]
	_assert_assigned(name, users["creator"], users["assignee"])


def test_a_create_through_the_desk_answers_with_the_assignee(web_server, people):
	users, made = people
	creator = Client(web_server, users["creator"])
	doc = {"doctype": "Opportunity", "name": "new-opportunity-1", "__islocal": 1, **_new(users["assignee"])}
	status, body = creator.call(
		"/api/method/frappe.desk.form.save.savedocs", {"doc": json.dumps(doc), "action": "Save"}
	)
	assert status == 200, body
	name = body["docs"][0]["name"]
	made.append(name)
	# the form's sidebar reads the save's docinfo: the assignee is there at once
	assert [a["owner"] for a in body["docinfo"]["assignments"]] == [users["assignee"]]
	_assert_assigned(name, users["creator"], users["assignee"])
