"""Two conversions of one opportunity at the same moment, each on its own Frappe connection (committed data,
cleaned up afterwards)."""

import threading

import frappe
import pytest

from opportunity_suite.api.conversion import convert_to_project
from opportunity_suite.services.conversion import AlreadyConvertedError
from tests.concurrency import at_once
from tests.conversion_fixtures import add_comment, make_quote, make_todo
from tests.factories import make_opportunity
from tests.records_fixtures import rest_client


def _cleanup(opportunity: str):
	frappe.db.rollback()
	frappe.set_user("Administrator")
	projects = frappe.get_all("Project", filters={"opportunity": opportunity}, pluck="name")
	references = [("Opportunity", opportunity)] + [("Project", name) for name in projects]
	for doctype, name in references:
		for todo in frappe.get_all(
			"ToDo", filters={"reference_type": doctype, "reference_name": name}, pluck="name"
		):
			frappe.delete_doc("ToDo", todo, force=True, ignore_permissions=True, delete_permanently=True)
		frappe.db.delete("Comment", {"reference_doctype": doctype, "reference_name": name})
	frappe.db.set_value("Opportunity", opportunity, "project", None, update_modified=False)
	for quote in frappe.get_all("Quote", filters={"opportunity": opportunity}, pluck="name"):
		frappe.delete_doc("Quote", quote, force=True, ignore_permissions=True, delete_permanently=True)
	for name in projects:
		frappe.delete_doc("Project", name, force=True, ignore_permissions=True, delete_permanently=True)
	frappe.delete_doc(
		"Opportunity", opportunity, force=True, ignore_permissions=True, delete_permanently=True
	)
	frappe.db.commit()


@pytest.mark.slow
def test_two_conversions_at_once_give_one_project():
	opp = make_opportunity()
	quote = make_quote(opp.name)
	make_todo(opp.name, allocated_to="Administrator")
	add_comment(opp.name, "Race me")
	frappe.db.commit()
	try:
		results = at_once(lambda: convert_to_project(opp.name), AlreadyConvertedError)
		assert sorted(kind for kind, _ in results) == ["converted", "refused"], results
		project = next(value for kind, value in results if kind == "converted")
		refusal = next(value for kind, value in results if kind == "refused")
		assert f"already converted to {project}" in refusal
		assert frappe.get_all("Project", filters={"opportunity": opp.name}, pluck="name") == [project]
		assert frappe.db.get_value("Opportunity", opp.name, "project") == project
		assert frappe.db.get_value("Quote", quote.name, "project") == project
		# its to-do and the assignment to-do of its `assigned_to`, each once
		assert frappe.db.count("ToDo", {"reference_type": "Project", "reference_name": project}) == 2
		assert (
			frappe.db.count(
				"Comment",
				{"reference_doctype": "Project", "reference_name": project, "comment_type": "Comment"},
			)
			== 1
		)
	finally:
		_cleanup(opp.name)
	assert not frappe.db.exists("Opportunity", opp.name)


@pytest.mark.slow
def test_two_rest_requests_at_once_give_one_project_and_a_409(web_server):
	opp = make_opportunity()
	quote = make_quote(opp.name)
	frappe.db.commit()
	path = "/api/method/opportunity_suite.api.conversion.convert_to_project"
	clients = [rest_client(web_server), rest_client(web_server)]
	barrier = threading.Barrier(2)
	answers = []

	def post(call):
		barrier.wait(timeout=30)
		answers.append(call(path, {"opportunity": opp.name}))

	try:
		status, body = clients[0](f"{path}?opportunity={opp.name}", method="GET")
		assert status in (403, 405), body
		threads = [threading.Thread(target=post, args=(call,)) for call in clients]
		for thread in threads:
			thread.start()
		for thread in threads:
			thread.join(timeout=120)
		assert sorted(status for status, _ in answers) == [200, 409], answers
		project = next(body["message"] for status, body in answers if status == 200)
		refusal = next(body for status, body in answers if status == 409)
		assert refusal["exc_type"] == "AlreadyConvertedError"
		assert f"already converted to {project}" in refusal["exception"]
		frappe.db.rollback()
		assert frappe.get_all("Project", filters={"opportunity": opp.name}, pluck="name") == [project]
		assert frappe.db.get_value("Quote", quote.name, "project") == project
	finally:
		_cleanup(opp.name)
