"""Opportunity Forecast report: sums in the default currency checked against hand-computed ones."""

import frappe
import pytest
from frappe.desk.query_report import run as run_report
from frappe.utils import add_months, get_first_day, getdate, today

from opportunity_suite.services import visibility
from opportunity_suite.services.forecast_report import ReportFilterError, run
from tests.factories import make_opportunity, make_user


def _month(offset: int, day: int = 10):
	return getdate(add_months(get_first_day(today()), offset)).replace(day=day)


@pytest.fixture
def pipeline():
	"""Two users' deals in two months, one in a second currency (EUR at 1.1 in USD)."""
	alice, bob = make_user("Sales User"), make_user("Sales User")
	default = frappe.db.get_single_value("Opportunity Settings", "default_currency")
	second = "EUR" if default != "EUR" else "USD"
	deals = [
		make_opportunity(
			amount=1000, sales_stage="Prospecting", assigned_to=alice, expected_close_date=_month(1)
		),
		make_opportunity(
			amount=2000, sales_stage="Prospecting", assigned_to=alice, expected_close_date=_month(1, 20)
		),
		make_opportunity(
			amount=500,
			currency=second,
			exchange_rate=1.1,
			sales_stage="Negotiation/Review",
			assigned_to=bob,
			expected_close_date=_month(1),
		),
		make_opportunity(
			amount=400, sales_stage="Qualification", assigned_to=bob, expected_close_date=_month(4)
		),
		make_opportunity(
			amount=999, sales_stage="Closed Won", assigned_to=bob, expected_close_date=_month(1)
		),
	]
	return frappe._dict(alice=alice, bob=bob, deals=deals)


def _filters(**values):
	return {
		"from_date": _month(1, 1),
		"to_date": getdate(add_months(_month(6, 1), 1)),
		"status": "Open",
		**values,
	}


def _rows(result, *users):
	return [r for r in result[1] if r.get("assigned_to") in users]


def test_monthly_sums_by_stage_and_assignee_in_the_default_currency(pipeline):
	result = run(_filters(period="Month", group_by="Stage and Assignee"))
	rows = _rows(result, pipeline.alice, pipeline.bob)
	first, fourth = str(_month(1))[:7], str(_month(4))[:7]
	got = {
		(r["period"], r["sales_stage"], r["assigned_to"]): (
			r["opportunities"],
			r["base_amount"],
			r["base_forecast_amount"],
		)
		for r in rows
	}
	assert got == {
		(first, "Prospecting", pipeline.alice): (2, 3000, 300),  # 10 % of 1000 + 2000
		(first, "Negotiation/Review", pipeline.bob): (1, 550, 440),  # 500 EUR × 1.1; 80 % of 550
		(fourth, "Qualification", pipeline.bob): (1, 400, 80),  # 20 %
	}
	chart = result[3]
	assert len(chart["data"]["labels"]) == 7
	assert chart["data"]["labels"][0] == _month(1).strftime("%b %Y")  # Jan 2027, never cut to "202 ..."
	assert chart["data"]["datasets"][1]["values"][0] >= 740  # 300 + 440 (+ other tests' data)


def test_quarterly_totals_and_assignee_filter(pipeline):
	for group_by in ("Stage and Assignee", "Stage"):
		result = run(_filters(period="Quarter", assigned_to=pipeline.bob, group_by=group_by))
		rows = result[1]
		if group_by == "Stage and Assignee":
			assert {r["assigned_to"] for r in rows} == {pipeline.bob}
		assert sum(r["base_amount"] for r in rows) == 950  # 550 + 400, Won excluded by status Open
		assert sum(r["base_forecast_amount"] for r in rows) == 520  # 440 + 80
		assert all("-Q" in r["period"] for r in rows)
		summary = {s["label"]: s["value"] for s in result[4]}
		assert summary["Weighted Pipeline"] == 520


def test_the_default_view_is_a_row_per_period_and_stage(pipeline):
	"""Group By Stage (the default): one row per period × stage however many assignees, no Assigned To
	column; the Assigned To and Team Of filters still narrow it. Its sums per period × stage are the
	Stage and Assignee view's added up, and its chart and summary the same."""
	carol = make_user("Sales User")
	frappe.db.set_value("User", carol, "reports_to", pipeline.alice)
	visibility.clear_cache()  # the teams it read before
	make_opportunity(amount=700, sales_stage="Prospecting", assigned_to=carol, expected_close_date=_month(1))
	make_opportunity(
		amount=80, sales_stage="Prospecting", assigned_to=pipeline.bob, expected_close_date=_month(1)
	)
	first = str(_month(1))[:7]
	for filters, expected in (
		# alice 1000 + 2000, carol 700, bob 80: one Prospecting row
		({"team": pipeline.alice}, (3, 3700, 370)),  # alice's team: alice and carol
		({"assigned_to": pipeline.bob}, (1, 80, 8)),
		({}, None),  # everyone's (other tests' deals too)
	):
		columns, rows, _message, chart, summary = run(_filters(period="Month", **filters))
		assert "assigned_to" not in {c["fieldname"] for c in columns}
		assert "sales_stage" in {c["fieldname"] for c in columns}
		assert all("assigned_to" not in row for row in rows)
		keys = [(r["period"], r["sales_stage"]) for r in rows]
		assert len(keys) == len(set(keys))  # one row each
		detail = run(_filters(period="Month", group_by="Stage and Assignee", **filters))
		added = {}
		for row in detail[1]:
			sums = added.setdefault((row["period"], row["sales_stage"]), [0, 0.0, 0.0, 0.0, 0.0])
			for i, field in enumerate(
				("opportunities", "base_amount", "base_forecast_amount", "pipeline", "commit")
			):
				sums[i] += row[field]
		assert set(added) == set(keys)
		for row in rows:
			got = [
				row[f] for f in ("opportunities", "base_amount", "base_forecast_amount", "pipeline", "commit")
			]
			assert got == pytest.approx(added[(row["period"], row["sales_stage"])], abs=0.005)
		assert chart == detail[3]
		assert summary == detail[4]
		if expected:
			prospecting = next(r for r in rows if r["sales_stage"] == "Prospecting" and r["period"] == first)
			assert (
				prospecting["opportunities"],
				prospecting["base_amount"],
				prospecting["base_forecast_amount"],
			) == expected


def test_group_by_period_gives_a_row_per_month_the_charts_bars(pipeline):
	"""Group By Period (the workspace chart's): a row per month or quarter, an empty one too, with the stage
	view's sums per period; the chart and the summary as the stage view's."""
	for period, count in (("Month", 7), ("Quarter", None)):
		filters = _filters(period=period, assigned_to=pipeline.bob, status="")
		columns, rows, _message, chart, summary = run({**filters, "group_by": "Period"})
		assert "sales_stage" not in {c["fieldname"] for c in columns}
		assert "assigned_to" not in {c["fieldname"] for c in columns}
		stage_view = run({**filters, "group_by": "Stage and Assignee"})
		by_period = {}
		for row in stage_view[1]:
			sums = by_period.setdefault(row["period"], [0, 0.0, 0.0, 0.0])
			sums[0] += row["opportunities"]
			sums[1] += row["base_amount"]
			sums[2] += row["base_forecast_amount"]
			sums[3] += row["pipeline"]
		assert [r["period"] for r in rows] == _keys(chart) and len(rows) == len(chart["data"]["labels"])
		assert count is None or len(rows) == count
		for row in rows:  # every period, those without a deal at zero
			expected = by_period.get(row["period"], [0, 0.0, 0.0, 0.0])
			assert [
				row["opportunities"],
				row["base_amount"],
				row["base_forecast_amount"],
				row["pipeline"],
			] == (pytest.approx(expected, abs=0.005))
		assert sum(r["base_amount"] for r in rows) == pytest.approx(950 + 999, abs=0.005)
		for mine, theirs in zip(chart["data"]["datasets"], stage_view[3]["data"]["datasets"], strict=True):
			assert mine["values"] == pytest.approx(theirs["values"], abs=0.005)
		assert chart["data"]["labels"] == stage_view[3]["data"]["labels"]
		assert [s["value"] for s in summary] == pytest.approx([s["value"] for s in stage_view[4]], abs=0.005)


def _keys(chart) -> list[str]:
	"""The chart's periods as the report's keys (2027-01, 2027-Q1), from its labels (Jan 2027, Q1 2027)."""
	import datetime

	keys = []
	for label in chart["data"]["labels"]:
		first, year = label.split(" ")
		if first.startswith("Q"):
			keys.append(f"{year}-{first}")
		else:
			keys.append(datetime.datetime.strptime(f"{first} {year}", "%b %Y").strftime("%Y-%m"))
	return keys


def test_the_desk_runs_the_period_view_with_a_total_row(pipeline):
	result = run_report(
		"Opportunity Forecast",
		filters=_filters(period="Month", group_by="Period", assigned_to=pipeline.alice),
	)
	assert len(result["result"]) == 7 + 1  # seven months and the total
	total = result["result"][-1]
	assert total[2] == 3000 and total[3] == 300  # period, opportunities, pipeline, weighted pipeline


def test_won_deals_when_status_is_cleared(pipeline):
	rows = run(_filters(status="", assigned_to=pipeline.bob, period="Month"))[1]
	assert sum(r["base_amount"] for r in rows) == 950 + 999


def test_the_desk_runs_it_with_a_total_row(pipeline):
	# period, stage, opportunities, pipeline, weighted pipeline; with the assignee after the stage
	for group_by, pipeline_column in (("Stage", 3), ("Stage and Assignee", 4)):
		result = run_report(
			"Opportunity Forecast",
			filters=_filters(period="Month", assigned_to=pipeline.alice, group_by=group_by),
		)
		total = result["result"][-1]
		assert total[pipeline_column] == 3000 and total[pipeline_column + 1] == 300
		assert result["chart"]["type"] == "bar"


def test_a_user_sees_only_what_they_may_read(pipeline):
	outsider = make_user("Blogger")
	frappe.share.add("Opportunity", pipeline.deals[3].name, outsider, read=1)
	frappe.set_user(outsider)
	rows = run(_filters(period="Month", group_by="Stage and Assignee"))[1]
	assert [(r["assigned_to"], r["base_amount"]) for r in rows] == [(pipeline.bob, 400)]
	rows = run(_filters(period="Month"))[1]
	assert [(r["sales_stage"], r["base_amount"]) for r in rows] == [("Qualification", 400)]
	frappe.set_user("Guest")
	with pytest.raises(frappe.PermissionError):
		run(_filters(period="Month"))


def test_bad_filters_are_refused():
	with pytest.raises(ReportFilterError):
		run({"period": "Week"})
	with pytest.raises(ReportFilterError):
		run({"group_by": "Assignee"})
	with pytest.raises(ReportFilterError):
		run({"from_date": "2026-05-01", "to_date": "2026-04-01"})
