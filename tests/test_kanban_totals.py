"""The Kanban board's column totals (api/kanban.py): counted, summed in the default currency through base
amounts, only over the deals the user may see, refused to a user who may not read opportunities."""

import frappe
import pytest

from opportunity_suite.api.kanban import column_totals
from tests.conversion_fixtures import as_user
from tests.factories import make_opportunity, make_user
from tests.test_visibility import private, team  # noqa: F401


def _other_currency() -> str:
	default = frappe.db.get_single_value("Opportunity Settings", "default_currency") or frappe.db.get_default(
		"currency"
	)
	return "EUR" if default != "EUR" else "GBP"


def _deals(users, campaign):
	as_user(users.owner, make_opportunity, campaign=campaign, amount=1000)  # Prospecting: 10 %
	as_user(
		users.owner,
		make_opportunity,
		campaign=campaign,
		amount=1000,
		currency=_other_currency(),
		exchange_rate=1.1,
	)
	as_user(users.owner, make_opportunity, campaign=campaign, amount=500, sales_stage="Qualification")
	as_user(users.other, make_opportunity, campaign=campaign, amount=9999)


def _totals(user, campaign):
	return as_user(user, column_totals, frappe.as_json([["campaign", "=", campaign]]))


def test_totals_add_mixed_currencies_and_count_only_the_deals_a_sales_user_sees(private, team):  # noqa: F811
	campaign = frappe.generate_hash(length=10)
	_deals(team, campaign)
	mine = _totals(team.owner, campaign)
	assert mine["columns"] == {
		"Prospecting": {"count": 2, "amount": 2100.0, "forecast": 210.0},
		"Qualification": {"count": 1, "amount": 500.0, "forecast": 100.0},
	}
	assert mine["currency"] == (
		frappe.db.get_single_value("Opportunity Settings", "default_currency")
		or frappe.db.get_default("currency")
	)
	assert _totals(team.other, campaign)["columns"] == {
		"Prospecting": {"count": 1, "amount": 9999.0, "forecast": 999.9}
	}
	# the owner's manager sees the team's deals, not the outsider's
	assert _totals(team.manager, campaign)["columns"]["Prospecting"]["count"] == 2


def test_with_visibility_for_everyone_every_deal_counts(team):  # noqa: F811
	campaign = frappe.generate_hash(length=10)
	_deals(team, campaign)
	assert _totals(team.owner, campaign)["columns"]["Prospecting"] == {
		"count": 3,
		"amount": 12099.0,
		"forecast": 1209.9,
	}


def test_a_user_who_may_not_read_opportunities_gets_no_totals():
	reader = make_user("Blogger")
	with pytest.raises(frappe.PermissionError):
		as_user(reader, column_totals, "[]")


def test_filters_that_are_not_a_list_are_refused(team):  # noqa: F811
	with pytest.raises(frappe.ValidationError):
		as_user(team.owner, column_totals, '"campaign"')
