"""A closed deal's probability is certain (Won 100 %, Lost 0 %), a typed probability is kept on open stages,
and the earlier value stays in the history; in-process and over REST as a Sales User."""

import json
import urllib.error
import urllib.request

import frappe
import pytest
from frappe.utils import add_days, flt, today

from tests.factories import make_opportunity, make_user, set_forecast_settings


def _probability_changes(opp) -> list:
	"""The (old, new) probabilities Frappe's Versions recorded for the opportunity, oldest first (Version
	keeps them formatted, "35.0%")."""
	versions = frappe.get_all(
		"Version",
		filters={"ref_doctype": "Opportunity", "docname": opp.name},
		fields=["data"],
		order_by="creation",
	)
	return [
		(flt(str(old).rstrip("%")), flt(str(new).rstrip("%")))
		for version in versions
		for field, old, new in json.loads(version.data).get("changed", [])
		if field == "probability"
	]


def test_the_opportunity_keeps_its_history():
	assert frappe.get_meta("Opportunity").track_changes


def test_won_forecasts_the_whole_amount_whatever_was_typed():
	opp = make_opportunity(sales_stage="Qualification", amount=1000, probability=35)
	assert (opp.probability, opp.probability_is_manual, opp.forecast_amount) == (35, 1, 350)
	opp.sales_stage = "Closed Won"
	opp.save(ignore_version=False)  # Frappe skips versions under tests unless asked
	assert (opp.probability, opp.probability_is_manual, opp.forecast_amount) == (100, 0, 1000)
	assert (35, 100) in _probability_changes(opp)  # the typed value is kept in the history


def test_lost_forecasts_nothing_whatever_was_typed():
	opp = make_opportunity(sales_stage="Negotiation/Review", amount=1000, probability=90)
	opp.update({"sales_stage": "Closed Lost", "lost_reason": "Budget cut"})
	opp.save(ignore_version=False)
	assert (opp.probability, opp.forecast_amount) == (0, 0)
	assert (90, 0) in _probability_changes(opp)


def test_a_probability_typed_on_a_won_deal_is_not_taken():
	opp = make_opportunity(sales_stage="Closed Won", amount=1000, probability=20)
	assert (opp.probability, opp.forecast_amount) == (100, 1000)
	opp.probability = 50
	opp.save()
	assert opp.probability == 100


def test_reopening_a_won_deal_takes_the_open_stage_s_default():
	opp = make_opportunity(sales_stage="Qualification", amount=1000, probability=35)
	opp.sales_stage = "Closed Won"
	opp.save()
	opp.sales_stage = "Negotiation/Review"
	opp.save()
	assert (opp.probability, opp.probability_is_manual) == (80, 0)


def test_a_typed_zero_on_an_open_stage_is_a_value():
	opp = make_opportunity(sales_stage="Needs Analysis", amount=1000, probability=0, probability_is_manual=1)
	assert (opp.probability, opp.forecast_amount) == (0, 0)
	opp.sales_stage = "Negotiation/Review"
	opp.save()
	assert opp.probability == 0


# ---------------------------------------------------------------- over REST, as a Sales User


@pytest.fixture
def sales_user_rest(web_server):
	"""An HTTP client for the web server authenticated as a committed Sales User (token auth)."""
	user = frappe.get_doc("User", make_user("Sales User"))
	user.api_key = frappe.generate_hash(length=15)
	secret = frappe.generate_hash(length=15)
	user.api_secret = secret
	user.save(ignore_permissions=True)
	frappe.db.commit()
	made = []

	def call(path: str, payload: dict, method: str = "POST") -> tuple[int, dict]:
		headers = {"Content-Type": "application/json", "Authorization": f"token {user.api_key}:{secret}"}
		request = urllib.request.Request(
			f"{web_server}{path}", json.dumps(payload).encode(), headers, method=method
		)
		try:
			with urllib.request.urlopen(request) as response:
				body = json.loads(response.read())
				if method == "POST" and path == "/api/resource/Opportunity":
					made.append(body["data"]["name"])
				return response.status, body
		except urllib.error.HTTPError as error:
			return error.code, json.loads(error.read())

	yield call
	frappe.db.rollback()
	for name in made:
		frappe.delete_doc("Opportunity", name, force=True, ignore_permissions=True)
	frappe.delete_doc("User", user.name, force=True, ignore_permissions=True)
	frappe.db.commit()


def _new(**values) -> dict:
	return {
		"opportunity_name": "REST deal " + frappe.generate_hash(length=6),
		"expected_close_date": add_days(today(), 30),
		**values,
	}


@pytest.mark.slow
def test_rest_keeps_a_typed_probability_on_open_stages_and_closes_with_certainty(sales_user_rest):
	status, body = sales_user_rest(
		"/api/resource/Opportunity", _new(sales_stage="Needs Analysis", amount=1000, probability=20)
	)
	assert status == 200, body
	opp = body["data"]
	assert (opp["probability"], opp["probability_is_manual"], opp["forecast_amount"]) == (20, 1, 200)

	status, body = sales_user_rest(
		f"/api/resource/Opportunity/{opp['name']}", {"sales_stage": "Value Proposition"}, "PUT"
	)
	assert status == 200, body
	assert body["data"]["probability"] == 20  # kept on an open stage

	status, body = sales_user_rest(
		f"/api/resource/Opportunity/{opp['name']}", {"sales_stage": "Closed Won"}, "PUT"
	)
	assert status == 200, body
	assert (body["data"]["probability"], body["data"]["forecast_amount"]) == (100, 1000)
	frappe.db.rollback()  # see what the web server committed
	assert (20, 100) in _probability_changes(frappe._dict(name=opp["name"]))

	status, body = sales_user_rest(
		"/api/resource/Opportunity",
		_new(sales_stage="Closed Lost", amount=500, probability=40, lost_reason="Price"),
	)
	assert status == 200, body
	assert (body["data"]["probability"], body["data"]["forecast_amount"]) == (0, 0)

	status, body = sales_user_rest(
		"/api/resource/Opportunity",
		_new(sales_stage="Needs Analysis", amount=500, probability=0, probability_is_manual=1),
	)
	assert status == 200, body
	assert (body["data"]["probability"], body["data"]["forecast_amount"]) == (0, 0)  # a typed 0 is a value


# ---------------------------------------------------------------- the form's preview (api/forecast.py)


def test_preview_gives_what_a_save_would_give_for_a_sales_user():
	from opportunity_suite.api.forecast import preview

	frappe.set_user(make_user("Sales User"))
	shown = preview(json.dumps({"amount": 3000, "probability": 20, "sales_stage": "Needs Analysis"}))
	assert (shown["enabled"], shown["probability"], shown["forecast_amount"]) == (True, 20, 600)
	shown = preview({"amount": 3000, "probability": 20, "sales_stage": "Closed Won"})
	assert (shown["probability"], shown["forecast_amount"]) == (100, 3000)


def test_preview_says_when_the_rule_is_off():
	from opportunity_suite.api.forecast import preview

	set_forecast_settings(forecast_enabled=0)
	frappe.local.opportunity_suite_forecast = None
	frappe.set_user(make_user("Sales Manager"))
	shown = preview({"amount": 3000, "probability": 20})
	assert shown["enabled"] is False and "forecast_amount" not in shown


def test_preview_is_refused_without_a_sales_role():
	from opportunity_suite.api.forecast import preview

	frappe.set_user(make_user("Blogger"))
	with pytest.raises(frappe.PermissionError):
		preview({"amount": 1})
