"""No traceback of a failed request reaches a caller who isn't a System Manager (issue 12, item 12): over
the real web server, run as `bench start` runs it (DEV_SERVER), as Guest and as a Sales User, for an
API answer (JSON) and an error page (HTML)."""

import frappe
import pytest

from tests.http_users import Client, make_login_users, remove_login_users

FAILING = "/api/method/opportunity_suite.no_such_module.no_such_method"


@pytest.fixture(scope="module")
def clients(web_server):
	users = make_login_users(seller="Sales User", manager="Sales Manager")
	try:
		yield {
			"Guest": Client(web_server),
			"Sales User": Client(web_server, users["seller"]),
			"Sales Manager": Client(web_server, users["manager"]),
			"Administrator": Client(
				web_server, "Administrator", frappe.conf.get("admin_password") or "admin"
			),
		}
	finally:
		remove_login_users(users)


def _answers(client: Client) -> dict[str, object]:
	_status, json_body = client.call(FAILING, {})
	_status, page = client.get(FAILING, accept="text/html")
	return {"json": json_body, "page": page}


def _has_traceback(body) -> bool:
	return "Traceback (most recent call last)" in str(body)


@pytest.mark.slow
@pytest.mark.parametrize("caller", ["Guest", "Sales User", "Sales Manager"])
def test_no_traceback_reaches_a_caller_who_is_not_a_system_manager(clients, caller):
	answers = _answers(clients[caller])
	assert not _has_traceback(answers["json"]), answers["json"]
	assert not _has_traceback(answers["page"]), answers["page"]
	assert isinstance(answers["json"], dict) and answers["json"].get("exc_type")  # still says what failed
	assert "exc" not in answers["json"] and "exception" not in answers["json"]


@pytest.mark.slow
def test_a_system_manager_still_gets_the_traceback_where_frappe_shows_it(clients):
	"""The test site keeps Frappe's default "Show Full Error": a System Manager debugging it sees why."""
	assert frappe.db.get_single_value("System Settings", "allow_error_traceback")
	answers = _answers(clients["Administrator"])
	assert _has_traceback(answers["json"])


def test_the_product_run_mode_turns_off_full_errors():
	from opportunity_suite.setup_site import product_run_mode

	try:
		product_run_mode()
		assert not frappe.db.get_single_value("System Settings", "allow_error_traceback")
		product_run_mode()  # idempotent
		assert not frappe.db.get_single_value("System Settings", "allow_error_traceback")
	finally:
		# the save cleared (and may have re-cached) the settings: forget what the rollback undoes
		frappe.db.rollback()
		frappe.clear_document_cache("System Settings", "System Settings")
		if hasattr(frappe.local, "system_settings"):
			del frappe.local.system_settings
