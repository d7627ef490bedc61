"""Opportunity Import over REST, as users holding one role: only files the user may read can be imported
(issue 12, item 5), and a caller never writes a run's status or counts (item 11)."""

import frappe
import pytest

from tests.factories import unique
from tests.http_users import Client, make_login_users, remove_login_users
from tests.import_fixtures import IMPORT, csv_bytes

IMPORTS = "/api/resource/Opportunity%20Import"


def _private_file(owner: str) -> str:
	"""A private CSV uploaded by `owner` (not attached to anything), committed; its URL. (Each with its
	own content: Frappe gives files with the same content the same URL.)"""
	frappe.set_user(owner)
	file = frappe.get_doc(
		{
			"doctype": "File",
			"file_name": f"{unique('secret').replace(' ', '_')}.csv",
			"content": csv_bytes([["Opportunity Name", "Amount"], ["Secret deal", "1"], [owner, "2"]]),
			"is_private": 1,
		}
	).insert()
	frappe.set_user("Administrator")
	frappe.db.commit()
	return file.file_url


@pytest.fixture(scope="module")
def setting():
	users = make_login_users(victim="Sales Manager", seller="Sales User", manager="Sales Manager")
	files = {key: _private_file(user) for key, user in users.items()}
	try:
		yield frappe._dict(users=users, files=files)
	finally:
		frappe.db.rollback()
		frappe.set_user("Administrator")
		urls = list(files.values())
		imports = frappe.get_all(IMPORT, {"import_file": ("in", urls)}, pluck="name")
		for name in frappe.get_all("File", {"file_url": ("in", urls)}, pluck="name"):
			frappe.delete_doc("File", name, force=True, ignore_permissions=True)
		for name in imports:
			frappe.db.delete("Comment", {"reference_doctype": IMPORT, "reference_name": name})
			frappe.db.delete("Opportunity Import Column", {"parent": name})
			frappe.db.delete(IMPORT, {"name": name})
		frappe.db.commit()
		remove_login_users(users)


def _copies_on_imports(file_url: str) -> list[str]:
	frappe.db.rollback()
	return frappe.get_all("File", {"file_url": file_url, "attached_to_doctype": IMPORT}, pluck="name")


@pytest.mark.slow
def test_another_users_private_file_cannot_be_imported_nor_downloaded_through_it(web_server, setting):
	seller = Client(web_server, setting.users["seller"])
	secret = setting.files["victim"]
	status, body = seller.call(IMPORTS, {"import_file": secret})
	assert status == 403, body
	assert not _copies_on_imports(secret)
	status, _body = seller.get(secret)
	assert status == 403


@pytest.mark.slow
def test_a_users_own_file_can_be_imported(web_server, setting):
	own = setting.files["seller"]
	status, body = Client(web_server, setting.users["seller"]).call(IMPORTS, {"import_file": own})
	assert status == 200, body
	assert body["data"]["import_file"] == own


@pytest.mark.slow
def test_prepare_refuses_a_file_the_importer_may_not_read(web_server, setting):
	"""An import whose file was set before the check existed (or by a path that skips validate): the
	reader still refuses to preview it."""
	manager = Client(web_server, setting.users["manager"])
	status, body = manager.call(IMPORTS, {"import_file": setting.files["manager"]})
	assert status == 200, body
	name = body["data"]["name"]
	frappe.db.set_value(IMPORT, name, "import_file", setting.files["victim"], update_modified=False)
	frappe.db.commit()
	status, body = manager.call(
		"/api/method/opportunity_suite.api.importing.prepare_import", {"import_name": name}
	)
	assert status == 403, body
	assert "Secret deal" not in str(body)


@pytest.mark.slow
def test_a_caller_never_writes_the_runs_status_or_counts(web_server, setting):
	seller = Client(web_server, setting.users["seller"])
	forged = {"status": "Completed", "created_count": 999, "rows_read": 999, "total_rows": 999}
	status, body = seller.call(IMPORTS, {"import_file": setting.files["seller"], **forged})
	assert status == 200, body
	made = body["data"]
	assert (made["status"], made["created_count"], made["rows_read"], made["total_rows"]) == (
		"Pending",
		0,
		0,
		0,
	)
	status, body = seller.call(f"{IMPORTS}/{made['name']}", forged, method="PUT")
	assert status == 200, body
	assert (body["data"]["status"], body["data"]["created_count"]) == ("Pending", 0)
	frappe.db.rollback()
	assert frappe.db.get_value(IMPORT, made["name"], ["status", "created_count"]) == ("Pending", 0)
