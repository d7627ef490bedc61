"""A user with only Sales Manager (or only Sales User) opens the app's report, chart and number cards over
HTTP without "No permission to read Currency" (issue 12, item 11): services/roles.py gives the roles what
those pages read."""

import json
from urllib.parse import quote

import frappe
import pytest
from frappe.utils import add_days, today

from tests.factories import make_opportunity
from tests.http_users import Client, make_login_users, remove_login_users
from tests.records_fixtures import delete_committed

CARDS = ("Open Pipeline", "Weighted Pipeline", "Won This Quarter", "Average Deal Size", "Stale Deals")


@pytest.fixture(scope="module")
def callers(web_server):
	users = make_login_users(manager="Sales Manager", seller="Sales User")
	opp = make_opportunity(amount=4200, expected_close_date=add_days(today(), 3))
	frappe.db.commit()
	try:
		yield {
			role: Client(web_server, users[key])
			for key, role in (("manager", "Sales Manager"), ("seller", "Sales User"))
		}
	finally:
		frappe.db.rollback()
		delete_committed("Opportunity", [opp.name])
		frappe.db.commit()
		remove_login_users(users)


def _get(client: Client, method: str, **args):
	query = "&".join(
		f"{key}={quote(value if isinstance(value, str) else json.dumps(value))}"
		for key, value in args.items()
	)
	return client.get(f"/api/method/{method}?{query}")


@pytest.mark.slow
@pytest.mark.parametrize("role", ["Sales Manager", "Sales User"])
def test_the_forecast_report_and_its_workspace_chart_open(callers, role):
	client = callers[role]
	status, body = _get(
		client,
		"frappe.desk.query_report.run",
		report_name="Opportunity Forecast",
		filters={"period": "Month", "status": "Open"},
	)
	assert status == 200, body
	assert body["message"]["result"], body
	# the workspace's chart widget: the chart's record, then the report with the chart's filters
	chart = "Weighted Pipeline by Month"
	status, body = _get(client, "frappe.desk.form.load.getdoc", doctype="Dashboard Chart", name=chart)
	assert status == 200, body
	frappe.db.rollback()
	status, body = _get(
		client,
		"frappe.desk.query_report.run",
		report_name="Opportunity Forecast",
		filters=json.loads(frappe.db.get_value("Dashboard Chart", chart, "filters_json")),
		ignore_prepared_report="1",
	)
	assert status == 200, body
	assert body["message"]["chart"], body


@pytest.mark.slow
@pytest.mark.parametrize("role", ["Sales Manager", "Sales User"])
def test_the_workspace_number_cards_open(callers, role):
	client = callers[role]
	for card in CARDS:
		frappe.db.rollback()
		doc = frappe.get_doc("Number Card", card)
		status, body = client.call(
			"/api/method/frappe.desk.doctype.number_card.number_card.get_result",
			{"doc": doc.as_json(), "filters": doc.filters_json},
		)
		assert status == 200, (card, body)


def test_the_grants_are_made_once_and_a_managers_change_stays():
	from opportunity_suite.services.roles import GRANTS, ensure_role_permissions

	ensure_role_permissions()
	rows = frappe.get_all("Custom DocPerm", {"parent": ("in", ["Currency", "Address"])}, ["name", "modified"])
	ensure_role_permissions()
	assert (
		frappe.get_all("Custom DocPerm", {"parent": ("in", ["Currency", "Address"])}, ["name", "modified"])
		== rows
	)
	row = frappe.db.get_value(
		"Custom DocPerm", {"parent": "Currency", "role": "Sales Manager", "permlevel": 0}
	)
	frappe.db.set_value("Custom DocPerm", row, "read", 0)
	ensure_role_permissions()
	assert frappe.db.get_value("Custom DocPerm", row, "read") == 0
	assert ("Currency", "Sales Manager") in GRANTS


@pytest.mark.slow
def test_a_sales_manager_imports_with_opportunity_import_not_data_import(callers):
	"""What the README's "Importing" says: Frappe's Data Import is System Manager only."""
	status, body = callers["Sales Manager"].call(
		"/api/resource/Data%20Import", {"reference_doctype": "Lead", "import_type": "Insert New Records"}
	)
	assert status == 403, body
	status, body = callers["Sales Manager"].get(
		"/api/method/frappe.client.get_count?doctype=Opportunity%20Import"
	)
	assert status == 200, body
