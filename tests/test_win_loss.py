"""Lost reasons and competitors: the picklists on the deal, the free-text reasons of the past classified, and
the Win/Loss report's numbers worked out by hand on a small set of closed deals with a second currency."""

import frappe
import pytest

from opportunity_suite.services.forecast_report import ReportFilterError
from opportunity_suite.services.picklists import DisabledPicklistValueError
from opportunity_suite.services.win_loss import classify_stored_lost_reasons, run
from tests.factories import make_opportunity, make_picklist_value, make_user


def _deal(owner, amount, stage, competitors=(), **values):
	return make_opportunity(
		amount=amount,
		sales_stage=stage,
		assigned_to=owner,
		competitors=[{"competitor": c} for c in competitors],
		**values,
	)


@pytest.fixture
def closed():
	"""Won: 1000 (Web Site, vs C1) and 500 EUR × 1.1 = 550 (Partner, vs C1 and C2). Lost: 2000 on Price
	(Web Site, vs C2), 60,000 to a competitor (Partner, vs C1), 300 on Price (no source, no competitor)."""
	owner = make_user("Sales User")
	c1, c2 = make_picklist_value("Competitor", "Rival").name, make_picklist_value("Competitor", "Rival").name
	default = frappe.db.get_single_value("Opportunity Settings", "default_currency")
	second = "EUR" if default != "EUR" else "USD"
	_deal(owner, 1000, "Closed Won", [c1], lead_source="Web Site")
	_deal(owner, 500, "Closed Won", [c1, c2], lead_source="Partner", currency=second, exchange_rate=1.1)
	_deal(owner, 2000, "Closed Lost", [c2], lead_source="Web Site", loss_reason="Price")
	_deal(owner, 60000, "Closed Lost", [c1], lead_source="Partner", loss_reason="Lost to Competitor")
	_deal(owner, 300, "Closed Lost", loss_reason="Price", lost_reason="They chose to wait a year")
	_deal(owner, 700, "Prospecting")  # open: not in the report
	return frappe._dict(owner=owner, c1=c1, c2=c2)


def _groups(closed, dimension, key="grouped"):
	rows = run({"dimension": dimension, "assigned_to": closed.owner})[1]
	assert rows[-1]["is_total_row"]  # the last row is the total, the others the groups
	rows = rows[:-1]
	return {r[key]: (r["won"], r["won_amount"], r["lost"], r["lost_amount"]) for r in rows}, rows


def _total(result) -> tuple:
	total = result[1][-1]
	assert total["is_total_row"] and total["label"] == "Total"
	cards = {s["label"]: s["value"] for s in result[4]}
	return (
		(total["won"], total["won_amount"], total["lost"], total["lost_amount"]),
		(total["win_rate"], total["win_rate_amount"]),
		(cards["Won"], cards["Lost"], cards["Win Rate (%)"]),
	)


def test_by_loss_reason(closed):
	got, _rows = _groups(closed, "Loss Reason")
	assert got == {None: (2, 1550, 0, 0), "Price": (0, 0, 2, 2300), "Lost to Competitor": (0, 0, 1, 60000)}


def test_by_competitor_a_deal_counts_for_each_of_its_competitors(closed):
	got, rows = _groups(closed, "Competitor")
	assert got == {closed.c1: (2, 1550, 1, 60000), closed.c2: (1, 550, 1, 2000), None: (0, 0, 1, 300)}
	c1 = next(r for r in rows if r["grouped"] == closed.c1)
	assert c1["win_rate"] == pytest.approx(200 / 3)
	assert c1["win_rate_amount"] == pytest.approx(1550 / 61550 * 100)


@pytest.mark.parametrize("summaries", [True, False], ids=["from the summary", "from its own query"])
@pytest.mark.parametrize("dimension", ["Competitor", "Loss Reason", "Size Band", "Lead Source"])
def test_the_total_row_counts_each_deal_once(closed, summaries, dimension):
	"""Deals with no, one and two competitors: by competitor the rows count the won 550 twice (C1 and C2);
	the total row and the cards count each deal once. By hand: won 1000 + 550 = 1550 (2 deals), lost 2000 +
	60,000 + 300 = 62,300 (3 deals); win rate 2 of 5 = 40 %, by amount 1550 / 63,850."""
	from opportunity_suite.services import outcome_totals
	from opportunity_suite.services.win_loss import normalise_filters
	from tests.test_outcome_totals import without_summaries

	filters = {"dimension": dimension, "assigned_to": closed.owner}
	if summaries:
		assert outcome_totals.win_loss_groups(normalise_filters(filters)) is not None  # the summary answers
		result = run(filters)
	else:
		with without_summaries():
			result = run(filters)
	counts, rates, cards = _total(result)
	assert counts == (2, pytest.approx(1550), 3, pytest.approx(62300))
	assert rates == (pytest.approx(40), pytest.approx(1550 / 63850 * 100))
	assert cards == (2, 3, 40)


def test_by_size_band_owner_and_source(closed):
	got, _rows = _groups(closed, "Size Band", key="label")
	assert got == {"Under 10,000": (2, 1550, 2, 2300), "50,000 – 99,999": (0, 0, 1, 60000)}
	got, _rows = _groups(closed, "Lead Source")
	assert got == {"Web Site": (1, 1000, 1, 2000), "Partner": (1, 550, 1, 60000), None: (0, 0, 1, 300)}
	result = run({"dimension": "Assigned To", "assigned_to": closed.owner})
	assert [(r["grouped"], r["won"], r["lost"], r["win_rate"]) for r in result[1]] == [
		(closed.owner, 2, 3, 40),
		("Total", 2, 3, 40),
	]
	assert {s["label"]: s["value"] for s in result[4]}["Win Rate (%)"] == 40
	assert result[3]["data"]["datasets"][0]["values"] == [2]


def test_a_lost_deal_needs_a_reason_from_the_picklist_or_in_words():
	assert _deal(frappe.session.user, 10, "Closed Lost", loss_reason="Timing").status == "Lost"
	assert _deal(frappe.session.user, 10, "Closed Lost", lost_reason="Nobody answered").status == "Lost"
	with pytest.raises(frappe.MandatoryError, match="Lost Reason"):
		_deal(frappe.session.user, 10, "Closed Lost")


def test_a_disabled_reason_cant_be_chosen():
	reason = make_picklist_value("Lost Reason", "Reason", disabled=1)
	with pytest.raises(DisabledPicklistValueError):
		_deal(frappe.session.user, 10, "Closed Lost", loss_reason=reason.name)


def test_a_disabled_competitor_cant_be_added_and_stays_where_it_already_is():
	from tests.conversion_fixtures import as_user

	seller = make_user("Sales User")
	kept, retired = make_picklist_value("Competitor", "Rival"), make_picklist_value("Competitor", "Rival")
	deal = as_user(seller, _deal, seller, 10, "Prospecting", [kept.name])
	retired.db_set("disabled", 1)
	with pytest.raises(DisabledPicklistValueError, match=retired.name):
		as_user(seller, _deal, seller, 10, "Prospecting", [retired.name])
	deal.append("competitors", {"competitor": retired.name})
	with pytest.raises(DisabledPicklistValueError, match="is disabled and can't be chosen"):
		as_user(seller, deal.save)
	deal.reload()
	kept.db_set("disabled", 1)  # retired after it was chosen: the deal keeps it through later saves
	deal.next_step = "Call again"
	as_user(seller, deal.save)
	assert [row.competitor for row in deal.reload().competitors] == [kept.name]


def test_the_free_text_reasons_of_the_past_are_classified():
	named = _deal(frappe.session.user, 10, "Closed Lost", lost_reason="price ")
	other = _deal(frappe.session.user, 10, "Closed Lost", lost_reason="Budget cut in March")
	kept = _deal(frappe.session.user, 10, "Closed Lost", lost_reason="price", loss_reason="Timing")
	for doc in (named, other):  # as stored before the picklist came
		frappe.db.set_value("Opportunity", doc.name, "loss_reason", None)
	classify_stored_lost_reasons()
	got = {
		d.name: (d.loss_reason, d.lost_reason)
		for d in frappe.get_all(
			"Opportunity",
			{"name": ("in", [named.name, other.name, kept.name])},
			["name", "loss_reason", "lost_reason"],
		)
	}
	assert got == {
		named.name: ("Price", "price "),
		other.name: ("Other", "Budget cut in March"),
		kept.name: ("Timing", "price"),
	}


def test_a_sales_user_sees_only_what_they_may_read(closed):
	frappe.set_user(closed.owner)
	got, _rows = _groups(closed, "Loss Reason")
	assert got["Price"] == (0, 0, 2, 2300)
	frappe.set_user("Guest")
	with pytest.raises(frappe.PermissionError):
		run({"dimension": "Loss Reason"})


def test_bad_filters_are_refused():
	with pytest.raises(ReportFilterError):
		run({"dimension": "Weather"})
	with pytest.raises(ReportFilterError):
		run({"from_date": "2026-05-01", "to_date": "2026-04-01"})
