"""Sales Quota under the record visibility (services/visibility.py): with private visibility a Sales User
reads only their own quotas and their team's (who reports to them), a Sales Manager reads all — through
the list, the form, the Opportunity Forecast report's quota and attainment columns, and REST."""

from urllib.parse import urlencode

import frappe
import pytest

from opportunity_suite.services import visibility
from opportunity_suite.services.forecast_report import run as run_forecast
from tests.conversion_fixtures import as_user
from tests.factories import make_user
from tests.http_users import Client, make_login_users, remove_login_users
from tests.records_fixtures import delete_committed

MONTH = "2031-08-01"  # a month no other test gives a quota


def _set_visibility(value: str):
	frappe.db.set_single_value("Opportunity Settings", "visibility", value)
	visibility.clear_cache()


ROLES = {"member": "Sales User", "lead": "Sales User", "other": "Sales User", "boss": "Sales Manager"}


def _make_team(users: dict) -> frappe._dict:
	"""member reports to lead; other is outside; boss is a Sales Manager (ROLES). A quota of 100 × n each."""
	users = frappe._dict(users)
	frappe.db.set_value("User", users.member, "reports_to", users.lead)
	quotas = frappe._dict()
	for n, (key, user) in enumerate(users.items(), start=1):
		quotas[key] = (
			frappe.get_doc(
				{
					"doctype": "Sales Quota",
					"user": user,
					"period_type": "Month",
					"period_start": MONTH,
					"amount": 100 * n,
				}
			)
			.insert()
			.name
		)
	visibility.clear_cache()
	return frappe._dict(users=users, quotas=quotas)


@pytest.fixture
def team():
	return _make_team({key: make_user(role) for key, role in ROLES.items()})


@pytest.fixture
def private():
	_set_visibility(visibility.PRIVATE)
	yield
	frappe.db.rollback()
	_set_visibility(visibility.EVERYONE)


# who reads whose quota with private visibility
READS = {
	"member": {"member"},
	"lead": {"lead", "member"},
	"other": {"other"},
	"boss": {"member", "lead", "other", "boss"},
}


def _listed(team, reader: str) -> set[str]:
	names = as_user(
		team.users[reader], frappe.get_list, "Sales Quota", filters={"period_start": MONTH}, pluck="name"
	)
	return {key for key, name in team.quotas.items() if name in names}


def _readable(team, reader: str) -> set[str]:
	user = team.users[reader]
	return {
		key
		for key, name in team.quotas.items()
		if frappe.has_permission("Sales Quota", "read", doc=frappe.get_doc("Sales Quota", name), user=user)
	}


def _report_quotas(team, reader: str, **filters) -> dict[str, float]:
	result = as_user(
		team.users[reader],
		run_forecast,
		{"from_date": MONTH, "to_date": "2031-08-31", "group_by": "Owner", "period": "Month", **filters},
	)
	by_user = {r["assigned_to"]: r for r in result[1]}
	return {key: by_user[user]["quota"] for key, user in team.users.items() if user in by_user}


def test_with_everyone_visibility_a_sales_user_reads_every_quota(team):
	assert _listed(team, "other") == set(READS["boss"])
	assert _readable(team, "other") == set(READS["boss"])


@pytest.mark.parametrize("reader", sorted(READS))
def test_with_private_visibility_the_list_and_the_form_show_only_the_team_s_quotas(private, team, reader):
	assert _listed(team, reader) == READS[reader]
	assert _readable(team, reader) == READS[reader]


def test_with_private_visibility_the_forecast_report_counts_only_the_team_s_quotas(private, team):
	assert _report_quotas(team, "lead") == {"member": 100, "lead": 200}
	assert _report_quotas(team, "other", assigned_to=team.users["lead"]) == {}  # denied: no quota
	assert _report_quotas(team, "lead", assigned_to=team.users["member"]) == {"member": 100}
	assert _report_quotas(team, "boss") == {"member": 100, "lead": 200, "other": 300, "boss": 400}


@pytest.mark.slow
def test_with_private_visibility_rest_and_the_desk_form_refuse_a_colleague_s_quota(web_server):
	frappe.db.rollback()
	users = make_login_users(**ROLES)
	made = _make_team(users)
	frappe.db.commit()
	try:
		_set_visibility(visibility.PRIVATE)
		frappe.db.commit()
		for reader, allowed in READS.items():
			client = Client(web_server, users[reader])
			query = urlencode({"filters": f'[["period_start","=","{MONTH}"]]', "limit_page_length": 0})
			status, body = client.get(f"/api/resource/Sales%20Quota?{query}")
			assert status == 200, body
			assert {r["name"] for r in body["data"]} == {made.quotas[k] for k in allowed}, reader
			for key, name in made.quotas.items():
				status, _body = client.get(f"/api/resource/Sales%20Quota/{name}")
				assert status == (200 if key in allowed else 403), (reader, key)
				status, _body = client.get(
					f"/api/method/frappe.desk.form.load.getdoc?doctype=Sales%20Quota&name={name}"
				)
				assert status == (200 if key in allowed else 403), (reader, key)
	finally:
		frappe.db.rollback()
		_set_visibility(visibility.EVERYONE)
		delete_committed("Sales Quota", list(made.quotas.values()))
		frappe.db.commit()
		remove_login_users(users)
