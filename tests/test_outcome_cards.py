"""Number cards over closed deals from the outcome summary (services/outcome_cards.py): for a private Sales
User the workspace's Won This Quarter (and the cards like it) answers exactly as Frappe's own query, with
shares, assignees by `_assign`, other quarters and lost deals around; what it can't answer falls back."""

import frappe
import pytest
from frappe.desk.doctype.number_card import number_card as frappe_card
from frappe.utils import add_months, get_first_day, get_last_day, get_quarter_start, today
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from opportunity_suite.api import client
from opportunity_suite.services import outcome_cards, totals
from tests.conversion_fixtures import as_user
from tests.factories import make_opportunity, make_user
from tests.test_visibility import private, team  # noqa: F401

CARD = "Won This Quarter"


@pytest.fixture(scope="module", autouse=True)
def in_step():
	frappe.db.rollback()
	totals.rebuild()  # also the outcome summary
	yield


def _lost_reason() -> str:
	return (
		frappe.db.get_value("Lost Reason", {}, "name")
		or frappe.get_doc({"doctype": "Lost Reason", "reason_name": "Cards test"})
		.insert(ignore_permissions=True)
		.name
	)


def _closed(user: str, stage: str, amount: float, closed_on=None, **values) -> str:
	"""A deal `user` makes and closes (today, or on `closed_on`: a raw write, refreshed as every writer does)."""
	if stage == "Closed Lost":
		values["loss_reason"] = _lost_reason()
	deal = as_user(user, make_opportunity, sales_stage=stage, amount=amount, **values)
	if closed_on:
		frappe.db.set_value("Opportunity", deal.name, "closed_on", closed_on, update_modified=False)
		totals.refresh([deal.name])
	return deal.name


def _card(**changes) -> frappe._dict:
	doc = frappe.get_doc("Number Card", CARD).as_dict()
	doc.update(changes)
	return frappe._dict(doc)


def _both(user: str, doc: dict, filters) -> tuple:
	"""(the desk's answer, Frappe's own query's) as `user`."""
	fast = as_user(user, client.get_number_card_result, frappe.as_json(doc), frappe.as_json(filters))
	slow = as_user(user, frappe_card.get_result, frappe.as_json(doc), frappe.as_json(filters))
	return fast, slow


def _pipeline(team) -> None:  # noqa: F811
	manager = make_user("Sales Manager")
	last_quarter = add_months(get_quarter_start(today()), -2)
	_closed(team.owner, "Closed Won", 1000)
	_closed(team.other, "Closed Won", 200, assigned_to=team.owner)
	by_assign = _closed(manager, "Closed Won", 30)
	frappe.db.set_value("Opportunity", by_assign, "_assign", frappe.as_json([team.owner]))
	totals.refresh([by_assign])
	_closed(team.other, "Closed Won", 4)  # the outsider's, not the team's
	shared = _closed(team.other, "Closed Won", 5000)
	frappe.share.add_docshare("Opportunity", shared, team.lead, read=1, flags={"ignore_share_permission": 1})
	_closed(team.owner, "Closed Won", 70000, closed_on=last_quarter)  # another quarter
	_closed(team.owner, "Closed Lost", 600000)
	return manager


CARDS = [
	({}, None),  # the workspace's own
	({"function": "Count"}, None),
	(
		{},
		[
			["Opportunity", "status", "in", ["Won", "Lost"], False],
			["Opportunity", "closed_on", "Timespan", "this quarter", False],
		],
	),
	(
		{},
		[
			["Opportunity", "status", "=", "Lost", False],
			["Opportunity", "closed_on", "Timespan", "this year", False],
		],
	),
	(
		{},
		[
			["Opportunity", "status", "=", "Won", False],
			["Opportunity", "closed_on", "Timespan", "this month", False],
		],
	),
]


def test_a_private_sales_users_closed_cards_answer_as_frappes_query(private, team):  # noqa: F811
	manager = _pipeline(team)
	for changes, filters in CARDS:
		doc = _card(**changes)
		filters = filters or frappe.parse_json(doc.filters_json)
		for user in (team.owner, team.lead, team.manager, team.other, manager):
			fast, slow = _both(user, doc, filters)
			assert fast == slow, (changes, filters, user)
		# answered by the summary for the private Sales Users, by Frappe's query for whoever sees all
		for user in (team.owner, team.lead, team.other):
			assert as_user(user, outcome_cards.number_card, doc, filters) is not None
		assert as_user(manager, outcome_cards.number_card, doc, filters) is None
	# the team lead's: their own, the owner's (theirs by owner, Assigned To, `_assign`), the shared deal
	assert as_user(
		team.lead, client.get_number_card_result, frappe.as_json(_card()), _card().filters_json
	) == (1000 + 200 + 30 + 5000)


def test_what_the_summary_cannot_answer_falls_back(private, team):  # noqa: F811
	_pipeline(team)
	doc = _card()
	start = get_first_day(today())
	cannot = [
		[
			["Opportunity", "status", "=", "Won"],
			["Opportunity", "closed_on", "between", [str(start), today()]],
		],
		[["Opportunity", "status", "=", "Open"], ["Opportunity", "closed_on", "Timespan", "this quarter"]],
		[["Opportunity", "closed_on", "Timespan", "this quarter"]],  # open deals would count
		[["Opportunity", "status", "=", "Won"]],
		[["Opportunity", "status", "=", "Won"], ["Opportunity", "closed_on", "Timespan", "last 7 days"]],
		[["Opportunity", "status", "=", "Won"], ["Opportunity", "closed_on", ">", str(start)]],
		[
			["Opportunity", "status", "=", "Won"],
			["Opportunity", "closed_on", "Timespan", "this quarter"],
			["Opportunity", "sales_stage", "=", "Closed Won"],
		],
	]
	for filters in cannot:
		assert as_user(team.owner, outcome_cards.number_card, doc, filters) is None, filters
		fast, slow = _both(team.owner, doc, filters)
		assert fast == slow, filters
	whole = [
		["Opportunity", "status", "=", "Won"],
		["Opportunity", "closed_on", "between", [str(start), str(get_last_day(start))]],
	]
	assert as_user(team.owner, outcome_cards.number_card, doc, whole) is not None
	for changes in ({"function": "Average"}, {"aggregate_function_based_on": "base_forecast_amount"}):
		assert (
			as_user(
				team.owner, outcome_cards.number_card, _card(**changes), frappe.parse_json(doc.filters_json)
			)
			is None
		)
	assert (
		as_user(team.owner, outcome_cards.number_card, doc, frappe.parse_json(doc.filters_json), today())
		is None
	)


def test_a_user_without_read_permission_gets_frappes_refusal(private, team):  # noqa: F811
	_pipeline(team)
	outsider = make_user("Blogger")
	doc = _card()
	with pytest.raises(frappe.PermissionError):
		as_user(outsider, client.get_number_card_result, frappe.as_json(doc), doc.filters_json)
	with pytest.raises(frappe.PermissionError):
		as_user(outsider, frappe_card.get_result, frappe.as_json(doc), doc.filters_json)


@settings(
	max_examples=5,
	deadline=None,
	derandomize=True,
	database=None,
	phases=[Phase.explicit, Phase.generate],
	suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
	deals=st.lists(
		st.tuples(
			st.sampled_from(("Closed Won", "Closed Lost")),
			st.decimals(min_value=0, max_value=10**7, places=2, allow_nan=False),
			st.integers(min_value=-7, max_value=0),  # closed this many months ago
			st.integers(min_value=0, max_value=2),  # who makes it
			st.integers(min_value=0, max_value=3),  # assigned to (3: nobody)
		),
		min_size=1,
		max_size=5,
	),
	timespan=st.sampled_from(("this quarter", "last quarter", "this month", "last month", "this year")),
)
def test_random_closings_answer_as_frappes_query(private, team, deals, timespan):  # noqa: F811
	users = [team.owner, team.lead, team.other]
	for stage, amount, months, maker, assignee in deals:
		closed_on = add_months(today(), months) if months else None
		values = {"assigned_to": users[assignee]} if assignee < 3 else {}
		_closed(users[maker], stage, float(amount), closed_on=closed_on, **values)
	for status in ("Won", "Lost"):
		filters = [["Opportunity", "status", "=", status], ["Opportunity", "closed_on", "Timespan", timespan]]
		for function in ("Sum", "Count"):
			doc = _card(function=function)
			for user in users:
				fast, slow = _both(user, doc, filters)
				assert fast == slow, (status, function, timespan, user)
