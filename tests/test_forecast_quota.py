"""Sales Quota, and the Opportunity Forecast report's category columns, quota, attainment and coverage,
checked against numbers worked out by hand on a small pipeline with a second currency."""

import frappe
import pytest
from frappe.utils import add_months, get_first_day, getdate, today

from opportunity_suite.services.forecast_report import ReportFilterError, run
from opportunity_suite.services.quotas import DuplicateQuotaError, QuotaError
from opportunity_suite.services.visibility import clear_cache
from tests.factories import make_opportunity, make_user


def _month(offset: int, day: int = 10):
	return getdate(add_months(get_first_day(today()), offset)).replace(day=day)


def _quota(user, amount, period_type="Month", day=None):
	return frappe.get_doc(
		{
			"doctype": "Sales Quota",
			"user": user,
			"period_type": period_type,
			"period_start": day or _month(1, 17),
			"amount": amount,
		}
	).insert()


@pytest.fixture
def pipeline():
	"""Next month: Alice 1000 Pipeline, 2000 Commit, 500 EUR (× 1.1) won, 300 lost; Bob 400 Best Case and
	800 he put in Omitted. Quotas: Alice 2000 for the month, Bob 3000 for the quarter, Carol (their
	manager, no deals) 500 for the month."""
	carol = make_user("Sales Manager")
	alice, bob = make_user("Sales User"), make_user("Sales User")
	for user in (alice, bob):
		frappe.db.set_value("User", user, "reports_to", carol)
	clear_cache()
	default = frappe.db.get_single_value("Opportunity Settings", "default_currency")
	second = "EUR" if default != "EUR" else "USD"
	day = _month(1)
	make_opportunity(amount=1000, sales_stage="Prospecting", assigned_to=alice, expected_close_date=day)
	make_opportunity(
		amount=2000, sales_stage="Negotiation/Review", assigned_to=alice, expected_close_date=day
	)
	make_opportunity(
		amount=500,
		currency=second,
		exchange_rate=1.1,
		sales_stage="Closed Won",
		assigned_to=alice,
		expected_close_date=day,
	)
	make_opportunity(
		amount=300, sales_stage="Closed Lost", lost_reason="Price", assigned_to=alice, expected_close_date=day
	)
	make_opportunity(amount=400, sales_stage="Proposal/Price Quote", assigned_to=bob, expected_close_date=day)
	make_opportunity(
		amount=800,
		sales_stage="Qualification",
		forecast_category="Omitted",
		assigned_to=bob,
		expected_close_date=day,
	)
	_quota(alice, 2000)
	_quota(bob, 3000, "Quarter")
	_quota(carol, 500)
	return frappe._dict(alice=alice, bob=bob, carol=carol)


def _filters(**values):
	return {"from_date": _month(1, 1), "to_date": _month(1, 28), "group_by": "Owner", **values}


def _by_owner(result) -> dict:
	return {r["assigned_to"]: r for r in result[1]}


def test_attainment_and_coverage_per_owner(pipeline):
	rows = _by_owner(run(_filters(team=pipeline.carol)))
	assert set(rows) == {pipeline.alice, pipeline.bob, pipeline.carol}
	alice = rows[pipeline.alice]
	assert (alice["pipeline"], alice["best_case"], alice["commit"], alice["closed"], alice["omitted"]) == (
		1000,
		0,
		2000,
		550,  # 500 EUR × 1.1
		300,
	)
	assert alice["won"] == 550 and alice["quota"] == 2000
	assert alice["attainment"] == pytest.approx(27.5)  # 550 ÷ 2000
	assert alice["remaining_quota"] == 1450
	assert alice["open_weighted"] == 1700  # 10 % of 1000 + 80 % of 2000
	assert alice["coverage"] == pytest.approx(1700 / 1450)
	bob = rows[pipeline.bob]
	assert (bob["best_case"], bob["omitted"], bob["open_weighted"]) == (400, 800, 260)  # 65 % of 400 only
	assert bob["quota"] == pytest.approx(1000)  # a third of the quarter's 3000
	assert (bob["won"], bob["attainment"]) == (0, 0)
	assert bob["coverage"] == pytest.approx(0.26)
	carol = rows[pipeline.carol]
	assert (carol["opportunities"], carol["quota"], carol["attainment"]) == (0, 500, 0)


def test_the_team_summary_and_chart(pipeline):
	result = run(_filters(team=pipeline.carol))
	summary = {s["label"]: s["value"] for s in result[4]}
	assert summary["Quota"] == pytest.approx(3500)  # 2000 + 1000 + 500
	assert summary["Won"] == 550
	assert summary["Attainment (%)"] == pytest.approx(15.7)  # 550 ÷ 3500
	assert summary["Coverage (×)"] == pytest.approx(0.66)  # (1700 + 260) ÷ (3500 − 550)
	chart = result[3]
	assert chart["type"] == "axis-mixed" and chart["data"]["labels"] == [str(_month(1))[:7]]
	values = {d["name"]: d["values"] for d in chart["data"]["datasets"]}
	assert values == {
		"Won": [550],
		"Commit": [2000],
		"Best Case": [400],
		"Pipeline": [1000],
		"Quota": [pytest.approx(3500)],
	}


def test_by_quarter_the_months_quotas_add_up(pipeline):
	month = _month(1)
	rows = _by_owner(
		run(
			_filters(
				period="Quarter",
				assigned_to=pipeline.alice,
				from_date=month.replace(month=(month.month - 1) // 3 * 3 + 1, day=1),
			)
		)
	)
	assert rows[pipeline.alice]["quota"] == 2000  # her one month quota in the quarter
	assert rows[pipeline.alice]["won"] == 550


def test_the_stage_view_has_the_category_columns(pipeline):
	rows = run(
		{"from_date": _month(1, 1), "to_date": _month(1, 28), "status": "", "assigned_to": pipeline.bob}
	)[1]
	got = {r["sales_stage"]: (r["best_case"], r["omitted"], r["pipeline"]) for r in rows}
	assert got == {"Proposal/Price Quote": (400, 0, 0), "Qualification": (0, 800, 0)}


def test_a_sales_user_runs_the_owner_view_on_what_they_may_read(pipeline):
	frappe.set_user(pipeline.alice)
	rows = _by_owner(run(_filters(assigned_to=pipeline.alice)))
	assert rows[pipeline.alice]["attainment"] == pytest.approx(27.5)


def test_quota_periods_are_kept_as_their_first_day_and_once(pipeline):
	quarter = frappe.get_all("Sales Quota", {"user": pipeline.bob}, ["period_start", "currency"])[0]
	month = _month(1)
	assert quarter.period_start == month.replace(month=(month.month - 1) // 3 * 3 + 1, day=1)
	assert quarter.currency == frappe.db.get_single_value("Opportunity Settings", "default_currency")
	with pytest.raises(DuplicateQuotaError):
		_quota(pipeline.alice, 10, day=_month(1, 2))
	with pytest.raises(QuotaError):
		_quota(pipeline.carol, -1, day=_month(2))


def test_a_sales_user_reads_quotas_and_a_manager_sets_them(pipeline):
	frappe.set_user(pipeline.alice)
	assert frappe.get_list("Sales Quota", {"user": pipeline.alice}, pluck="amount") == [2000]
	with pytest.raises(frappe.PermissionError):
		_quota(pipeline.alice, 10, day=_month(3))
	frappe.set_user(pipeline.carol)
	assert _quota(pipeline.alice, 10, day=_month(3)).amount == 10


def test_bad_filters_are_refused():
	with pytest.raises(ReportFilterError):
		run({"group_by": "Planet"})
	with pytest.raises(frappe.ValidationError):
		run({"forecast_category": "Maybe"})
