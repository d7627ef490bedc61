"""Bad input over REST (`/api/resource/Opportunity`, the real web server, as a Sales User): a 4xx naming the
field, never a 500, never a silently wrong value; and numbers read once, the same way for the record and
its forecast."""

import json
import urllib.error
import urllib.request
from http.cookiejar import CookieJar

import frappe
import pytest
from frappe.utils import add_days, today
from frappe.utils.password import update_password

from tests.factories import make_user, unique
from tests.records_fixtures import delete_committed, delete_committed_users, make_committed_users

PASSWORD = "Bad-Input-Test-" + "7Q2x"


def _client(base_url: str, user: str):
	"""A logged-in HTTP client: call(method, path, payload text) -> (status, body as a dict)."""
	opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
	login = json.dumps({"usr": user, "pwd": PASSWORD}).encode()
	opener.open(
		urllib.request.Request(f"{base_url}/api/method/login", login, {"Content-Type": "application/json"})
	)

	def call(method: str, path: str, payload: str | None = None) -> tuple[int, dict]:
		data = payload.encode("utf-8", "surrogatepass") if payload is not None else None
		request = urllib.request.Request(
			f"{base_url}{path}", data, {"Content-Type": "application/json"}, method=method
		)
		try:
			with opener.open(request) as response:
				return response.status, json.loads(response.read())
		except urllib.error.HTTPError as error:
			return error.code, json.loads(error.read() or b"{}")

	return call


@pytest.fixture(scope="module")
def setup(web_server):
	users = make_committed_users(seller="Sales User")
	users["website"] = make_user()  # no desk role: a Website User
	for user in users.values():
		update_password(user, PASSWORD)
	product = frappe.get_doc({"doctype": "Product", "product_name": unique("Bolt"), "unit_price": 10}).insert(
		ignore_permissions=True
	)
	frappe.db.commit()
	yield frappe._dict(call=_client(web_server, users["seller"]), users=users, product=product.name)
	frappe.db.rollback()
	made = frappe.get_all("Opportunity", filters={"owner": users["seller"]}, pluck="name")
	delete_committed("Opportunity", made)
	delete_committed("Product", [product.name])
	frappe.db.commit()
	delete_committed_users(users)


def _body(**values) -> dict:
	return {
		"opportunity_name": unique("REST Deal"),
		"sales_stage": "Prospecting",
		"expected_close_date": add_days(today(), 30),
		**values,
	}


def _messages(body: dict) -> str:
	"""The user-facing messages of an error answer, as one text."""
	texts = []
	for message in json.loads(body.get("_server_messages") or "[]"):
		try:
			texts.append(str(json.loads(message).get("message", "")))
		except (ValueError, AttributeError):
			texts.append(str(message))
	return " ".join(texts)


def _insert(setup, payload: str) -> tuple[int, dict]:
	return setup.call("POST", "/api/resource/Opportunity", payload)


BAD_VALUES = [
	# (what is sent, as JSON text of the field's value; the field the answer must name)
	("amount", "NaN", "Amount"),  # JSON's NaN literal: Python reads it as a float NaN
	("amount", "Infinity", "Amount"),
	("amount", '"NaN"', "Amount"),
	("amount", '"Infinity"', "Amount"),
	("amount", "1e30", "Amount"),
	("amount", '"abc"', "Amount"),
	("amount", "{}", "Amount"),
	("probability", '"50%"', "Probability"),
	("expected_close_date", '"2024-02-30"', "Expected Close Date"),
	("expected_close_date", '"not a date"', "Expected Close Date"),
	("expected_close_date", '"2024-13-01"', "Expected Close Date"),
	("expected_close_date", '"0000-00-00"', "Expected Close Date"),
	("opportunity_name", '"Deal \\ud800"', "Opportunity Name"),  # a lone surrogate
	("opportunity_name", '"Deal \\u0000 nul"', "Opportunity Name"),
	("next_step", '"call \\udfff back"', "Next Step"),
	("contact", '"No Such Contact 9f3k"', "Primary Contact"),
]


@pytest.mark.parametrize("fieldname, value, label", BAD_VALUES)
def test_bad_value_gets_a_4xx_naming_the_field_and_nothing_is_stored(setup, fieldname, value, label):
	body = _body(campaign=unique("Bad Input"))
	body.pop(fieldname, None)
	payload = json.dumps(body)[:-1] + f', "{fieldname}": {value}}}'
	status, answer = _insert(setup, payload)
	assert 400 <= status < 500, (status, answer.get("exception", "")[:300])
	assert label in _messages(answer), _messages(answer)
	frappe.db.rollback()
	assert not frappe.db.exists("Opportunity", {"campaign": body["campaign"]})


def test_negative_line_quantity_is_refused_naming_the_row(setup):
	body = _body(items=[{"item_type": "Product", "item": setup.product, "qty": -2}])
	status, answer = _insert(setup, json.dumps(body))
	assert 400 <= status < 500
	assert "Row 1" in _messages(answer) and "Quantity" in _messages(answer)


def test_website_user_as_assigned_to_is_refused(setup):
	status, answer = _insert(setup, json.dumps(_body(assigned_to=setup.users["website"])))
	assert 400 <= status < 500
	assert "Assigned To" in _messages(answer)


def test_a_bad_value_in_an_update_is_refused_too(setup):
	status, created = _insert(setup, json.dumps(_body(amount=100)))
	assert status == 200
	name = created["data"]["name"]
	status, answer = setup.call("PUT", f"/api/resource/Opportunity/{name}", '{"amount": "abc"}')
	assert 400 <= status < 500 and "Amount" in _messages(answer)
	frappe.db.rollback()
	assert frappe.db.get_value("Opportunity", name, "amount") == 100


def test_number_with_thousands_separator_is_read_once_for_the_amount_and_the_forecast(setup):
	status, answer = _insert(setup, json.dumps(_body(amount="1,000.50", probability=10)))
	assert status == 200, answer
	data = answer["data"]
	assert data["amount"] == 1000.5
	assert data["forecast_amount"] == pytest.approx(100.05)  # was 0: the formula read "1,000.50" as 0
	frappe.db.rollback()
	assert frappe.db.get_value("Opportunity", data["name"], "forecast_amount") == pytest.approx(100.05)


def test_good_values_are_stored_as_sent(setup):
	status, answer = _insert(
		setup, json.dumps(_body(amount="2500", probability="40", expected_close_date="2024-02-29"))
	)
	assert status == 200, answer
	data = answer["data"]
	assert (data["amount"], data["probability"], data["expected_close_date"]) == (2500, 40, "2024-02-29")
	assert data["forecast_amount"] == 1000


def test_a_record_assigned_to_a_user_disabled_since_stays_editable():
	from tests.factories import make_opportunity

	seller = make_user("Sales User")
	opportunity = make_opportunity(assigned_to=seller)
	frappe.db.set_value("User", seller, "enabled", 0)
	opportunity.reload()
	opportunity.next_step = "Call the new contact"
	opportunity.save()  # the assignee was not chosen now: no refusal
	opportunity.assigned_to = "Administrator"
	opportunity.save()
	opportunity.assigned_to = seller
	with pytest.raises(frappe.ValidationError, match="not an active desk user"):
		opportunity.save()
