"""The Time in Stage report, checked by hand on a small pipeline of one assignee's deals."""

import frappe
import pytest
from frappe.desk.query_report import run as run_report
from frappe.utils import today

from tests.factories import make_opportunity, make_user
from tests.test_stage_history import entered_days_ago


def _move(opp, stage: str, after_days: float, **values):
	"""`opp` sat `after_days` in its stage, then moves to `stage`."""
	entered_days_ago(opp.name, after_days)
	opp.reload()
	opp.update({"sales_stage": stage, **values})
	opp.save()
	return opp


@pytest.fixture
def pipeline():
	seller = make_user("Sales User")
	deal = lambda: make_opportunity(amount=100, assigned_to=seller)  # noqa: E731
	a, b, c, d, e, f = (deal() for _ in range(6))
	# Prospecting stays: 2, 4, 6, 10 days; three move on (A, B to Qualification, D to Negotiation), C is lost
	_move(a, "Qualification", 2)
	_move(b, "Qualification", 4)
	_move(c, "Closed Lost", 6, lost_reason="price")
	_move(d, "Negotiation/Review", 10)
	# Qualification: A sat 1 day and went back (not moving on); B sits there, 5 days so far
	_move(a, "Prospecting", 1)
	entered_days_ago(b.name, 5)
	# open in Prospecting now: A (just back), E 12 days (> 2 × median 5: flagged), F 3 days
	entered_days_ago(e.name, 12)
	entered_days_ago(f.name, 3)
	return frappe._dict(seller=seller, a=a, b=b, e=e)


def _report(user: str, seller: str) -> dict:
	frappe.set_user(user)
	result = run_report("Time in Stage", filters={"assigned_to": seller})
	stages = {r["stage"]: r for r in result["result"] if r.get("stage")}
	flagged = [r["opportunity"] for r in result["result"] if r.get("opportunity")]
	return frappe._dict(stages=stages, flagged=flagged, chart=result["chart"])


def test_median_p75_conversion_and_flags_by_hand(pipeline):
	report = _report("Administrator", pipeline.seller)
	prospecting = report.stages["Prospecting"]
	assert prospecting["stays"] == 4
	assert prospecting["median_days"] == pytest.approx(5, abs=0.01)  # (4 + 6) / 2
	assert prospecting["p75_days"] == pytest.approx(7, abs=0.01)  # 6 + 0.25 × (10 − 6)
	assert (prospecting["moved_on"], prospecting["conversion"]) == (3, 75)
	assert (prospecting["open_now"], prospecting["flagged"]) == (3, 1)
	qualification = report.stages["Qualification"]
	assert (qualification["stays"], qualification["moved_on"], qualification["conversion"]) == (1, 0, 0)
	assert qualification["median_days"] == pytest.approx(1, abs=0.01)
	assert (qualification["open_now"], qualification["flagged"]) == (1, 1)  # B: 5 days > 2 × 1
	assert sorted(report.flagged) == sorted([pipeline.e.name, pipeline.b.name])
	needs = report.stages["Needs Analysis"]
	assert (needs["stays"], needs["median_days"], needs["open_now"]) == (0, None, 0)
	labels = report.chart["data"]["labels"]
	medians = report.chart["data"]["datasets"][0]["values"]
	assert medians[labels.index("Prospecting")] == pytest.approx(5, abs=0.01)


def test_a_sales_user_sees_only_what_the_visibility_lets_them(pipeline):
	from tests.factories import set_forecast_settings

	assert _report(pipeline.seller, pipeline.seller).stages["Prospecting"]["stays"] == 4
	frappe.set_user("Administrator")
	set_forecast_settings(visibility="Owner, Assignees and Their Managers")
	other = make_user("Sales User")
	report = _report(other, pipeline.seller)
	assert report.stages["Prospecting"]["stays"] == 0 and report.flagged == []


def test_the_fast_path_equals_the_straightforward_computation_on_a_random_pipeline():
	"""The summary kept in step by saves and deletions, and the percentiles read at their ranks, give the
	numbers PERCENTILE_CONT gives over the rows; the summary recounted from the history is the same."""
	import random

	from opportunity_suite.services import stage_stays
	from opportunity_suite.services.time_in_stage import fast_statistics, straightforward_statistics

	stage_stays.rebuild()  # from here on, only the write paths keep it in step
	rng = random.Random(16)
	sellers = [make_user("Sales User") for _ in range(2)]
	stages = ["Prospecting", "Qualification", "Needs Analysis", "Value Proposition", "Closed Won"]
	deals = [make_opportunity(amount=100, assigned_to=rng.choice(sellers)) for _ in range(12)]
	for _step in range(30):
		deal = rng.choice(deals)
		stage = rng.choice([s for s in stages if s != deal.sales_stage])
		_move(deal, stage, rng.choice([rng.randint(0, 9), round(rng.uniform(0, 20), 2)]))
	frappe.delete_doc("Opportunity", deals[0].name)  # its stays leave the summary

	def compare():
		for assigned_to in (None, *sellers):
			filters = frappe._dict(from_date=today(), to_date=today(), assigned_to=assigned_to)
			fast, straight = fast_statistics(filters), straightforward_statistics(filters)
			assert sorted(fast) == sorted(straight)
			for stage, row in straight.items():
				assert (fast[stage].stays, fast[stage].moved_on) == (row.stays, row.moved_on), stage
				assert fast[stage].median_days == pytest.approx(row.median_days, abs=0.01), stage
				assert fast[stage].p75_days == pytest.approx(row.p75_days, abs=0.01), stage
		return stage_stays.period_counts(today(), today())

	kept = compare()
	stage_stays.rebuild()
	assert sorted(compare()) == sorted(kept)
