"""Forecast Snapshots (frozen, taken weekly by the scheduler and on demand) and the Forecast Accuracy report,
its numbers worked out by hand on a small pipeline with a second currency."""

import time

import frappe
import pytest
from frappe.utils import add_days, add_months, add_to_date, get_first_day, getdate, now_datetime, today

from opportunity_suite.api.forecast_snapshots import take_snapshot
from opportunity_suite.services.forecast_accuracy import closed_periods, normalise_filters, run
from opportunity_suite.services.forecast_report import ReportFilterError
from opportunity_suite.services.forecast_snapshots import SnapshotFrozenError
from opportunity_suite.services.visibility import clear_cache
from tests.factories import make_opportunity, make_user

METHOD = "opportunity_suite.services.forecast_snapshots.take_weekly_snapshot"


def _month(offset: int, day: int = 10):
	return getdate(add_months(get_first_day(today()), offset)).replace(day=day)


def _rows_of(snapshot: str, user: str) -> list[tuple]:
	return [
		(
			r.period_start,
			r.sales_stage,
			r.forecast_category,
			r.status,
			r.opportunities,
			r.base_amount,
			r.base_forecast_amount,
		)
		for r in frappe.get_doc("Forecast Snapshot", snapshot).rows
		if r.assigned_to == user
	]


def test_a_sales_manager_takes_one_on_demand_and_it_stays_frozen():
	manager, seller = make_user("Sales Manager"), make_user("Sales User")
	deal = make_opportunity(
		amount=1000, sales_stage="Negotiation/Review", assigned_to=seller, expected_close_date=_month(1)
	)
	make_opportunity(
		amount=200, sales_stage="Prospecting", assigned_to=seller, expected_close_date=_month(1, 20)
	)
	frappe.set_user(manager)
	name = take_snapshot()
	frappe.set_user("Administrator")
	first = get_first_day(_month(1))
	assert _rows_of(name, seller) == [
		(first, "Negotiation/Review", "Commit", "Open", 1, 1000, 800),
		(first, "Prospecting", "Pipeline", "Open", 1, 200, 20),
	]
	snapshot = frappe.get_doc("Forecast Snapshot", name)
	assert (snapshot.snapshot_date, snapshot.taken_by, snapshot.taken_how) == (
		getdate(today()),
		manager,
		"On Demand",
	)

	# the pipeline moves on; the snapshot does not
	deal.sales_stage = "Closed Won"
	deal.save()
	assert _rows_of(name, seller)[0] == (first, "Negotiation/Review", "Commit", "Open", 1, 1000, 800)
	snapshot.base_amount = 1
	with pytest.raises(SnapshotFrozenError):
		snapshot.save()


def test_a_sales_user_may_not_take_one():
	frappe.set_user(make_user("Sales User"))
	with pytest.raises(frappe.PermissionError):
		take_snapshot()
	assert not frappe.has_permission("Forecast Snapshot", "read")


@pytest.fixture
def judged():
	"""Last month, Dana (a second currency among her deals) and Eve, who report to Frank. Two snapshots
	of last month, 5 weeks and 1 week before its end, said what Dana would close; Eve was not in them."""
	frank, dana, eve = make_user("Sales Manager"), make_user("Sales User"), make_user("Sales User")
	for user in (dana, eve):
		frappe.db.set_value("User", user, "reports_to", frank)
	clear_cache()
	default = frappe.db.get_single_value("Opportunity Settings", "default_currency")
	second = "EUR" if default != "EUR" else "USD"
	month = get_first_day(_month(-1))
	end = getdate(add_days(add_months(month, 1), -1))
	make_opportunity(amount=1500, sales_stage="Closed Won", assigned_to=dana, expected_close_date=_month(-1))
	make_opportunity(
		amount=500,
		currency=second,
		exchange_rate=1.1,
		sales_stage="Closed Won",
		assigned_to=dana,
		expected_close_date=_month(-1, 20),
	)
	make_opportunity(amount=700, sales_stage="Closed Won", assigned_to=eve, expected_close_date=_month(-1))
	make_opportunity(amount=9000, sales_stage="Closed Won", assigned_to=dana, expected_close_date=_month(-2))

	def snapshot(day, rows):
		return frappe.get_doc(
			{
				"doctype": "Forecast Snapshot",
				"snapshot_date": day,
				"taken_how": "Scheduled",
				"rows": [
					dict(
						zip(
							(
								"sales_stage",
								"forecast_category",
								"status",
								"base_amount",
								"base_forecast_amount",
							),
							r,
							strict=True,
						)
					)
					| {"period_start": month, "assigned_to": dana, "opportunities": 1}
					for r in rows
				],
			}
		).insert()

	early = snapshot(
		add_days(end, -35),
		[
			("Negotiation/Review", "Commit", "Open", 2000, 1600),
			("Prospecting", "Pipeline", "Open", 1000, 100),
			("Qualification", "Omitted", "Open", 500, 50),  # left out by its owner
			("Closed Lost", "Omitted", "Lost", 300, 0),
			("Closed Won", "Closed", "Won", 400, 400),
		],
	)
	late = snapshot(add_days(end, -7), [("Closed Won", "Closed", "Won", 2500, 2500)])
	return frappe._dict(frank=frank, dana=dana, eve=eve, early=early.name, late=late.name, month=month)


def _filters(judged, **values):
	return {
		"from_date": judged.month,
		"to_date": add_days(add_months(judged.month, 1), -1),
		"team": judged.frank,
		**values,
	}


def test_accuracy_four_weeks_before(judged):
	_columns, rows, _m, chart, summary = run(_filters(judged, weeks_before=4))
	got = {r["assigned_to"]: r for r in rows}
	assert set(got) == {judged.dana, judged.eve}
	dana = got[judged.dana]
	assert dana["snapshot"] == judged.early
	assert dana["forecast"] == 2100  # 1600 + 100 + 400: open and won, not Omitted nor lost
	assert dana["commit"] == 2400  # Commit 2000 + Closed 400
	assert dana["won"] == 2050  # 1500 + 500 EUR × 1.1
	assert dana["bias"] == 50 and dana["direction"] == "Over"
	assert dana["bias_percent"] == pytest.approx(50 / 2050 * 100)
	eve = got[judged.eve]
	assert (eve["forecast"], eve["won"], eve["bias"], eve["direction"]) == (0, 700, -700, "Under")
	label = f"{judged.month.year}-{judged.month.month:02d}"
	assert chart["data"]["labels"] == [label]
	assert [d["values"] for d in chart["data"]["datasets"]] == [[2100], [2750]]
	totals = {s["label"]: s["value"] for s in summary}
	assert (totals["Forecast"], totals["Won"], totals["Bias"]) == (2100, 2750, -650)


def test_accuracy_one_week_before_uses_the_later_snapshot(judged):
	[dana] = [r for r in run(_filters(judged, weeks_before=1))[1] if r["assigned_to"] == judged.dana]
	assert (dana["snapshot"], dana["forecast"], dana["bias"]) == (judged.late, 2500, 450)


def test_only_ended_periods_are_judged():
	this_month = get_first_day(today())
	filters = normalise_filters(
		{"period": "Month", "from_date": add_months(this_month, -2), "to_date": today()}
	)
	labels = [label for label, _start, _end in closed_periods(filters)]
	assert labels == [str(add_months(this_month, m))[:7] for m in (-2, -1)]  # not the month going on
	quarters = normalise_filters(
		{"period": "Quarter", "from_date": add_months(this_month, -6), "to_date": today()}
	)
	for _label, start, end in closed_periods(quarters):
		assert start.month in (1, 4, 7, 10) and end < getdate(today())
	assert len(closed_periods(quarters)) == 2
	with pytest.raises(ReportFilterError):
		normalise_filters({"weeks_before": 60})


def test_the_accuracy_report_is_for_managers(judged):
	from frappe.desk.query_report import run as run_report

	frappe.set_user(judged.frank)
	assert run_report("Forecast Accuracy", filters=_filters(judged))["chart"]["type"] == "line"
	frappe.set_user(judged.dana)
	with pytest.raises(frappe.PermissionError):
		run_report("Forecast Accuracy", filters=_filters(judged))


@pytest.fixture
def only_the_weekly_snapshot_due():
	"""The test site with its scheduler on and, of its Scheduled Job Types, only the weekly snapshot's
	running (due: last run 8 days ago), so that the real scheduler enqueues that job alone and no other job
	of the site runs in this test or waits in the queue for a later test's worker; all as it was after."""
	from frappe.utils.scheduler import schedule_jobs_based_on_activity

	job = frappe.get_doc("Scheduled Job Type", {"method": METHOD})
	assert (job.frequency, job.stopped) == ("Weekly", 0)
	others = frappe.get_all(
		"Scheduled Job Type", filters={"stopped": 0, "name": ("!=", job.name)}, pluck="name"
	)
	was_enabled = frappe.db.get_single_value("System Settings", "enable_scheduler")
	last_execution = job.last_execution
	frappe.db.set_value("Scheduled Job Type", {"name": ("in", others)}, "stopped", 1, update_modified=False)
	frappe.db.set_single_value("System Settings", "enable_scheduler", 1)
	job.db_set("last_execution", add_to_date(now_datetime(), days=-8), update_modified=False)
	# a site without recent activity is "dormant" to the scheduler (jobs once a day): a login, as a user's
	frappe.get_doc(
		{"doctype": "Activity Log", "subject": "Login", "operation": "Login", "user": "Administrator"}
	).insert(ignore_permissions=True)
	frappe.db.commit()
	schedule_jobs_based_on_activity.clear_cache()
	try:
		yield job
	finally:
		frappe.db.rollback()
		frappe.db.set_value(
			"Scheduled Job Type", {"name": ("in", others)}, "stopped", 0, update_modified=False
		)
		frappe.db.set_single_value("System Settings", "enable_scheduler", was_enabled)
		frappe.db.set_value(
			"Scheduled Job Type", job.name, "last_execution", last_execution, update_modified=False
		)
		frappe.db.commit()


@pytest.mark.slow
def test_the_scheduler_takes_the_weekly_snapshot(only_the_weekly_snapshot_due, worker):
	"""The real `bench schedule` (its first tick comes after a minute) finds the weekly Scheduled Job Type
	due and enqueues it, a real `bench worker` runs it: a Scheduled snapshot of the committed pipeline
	appears, and the job's log says Complete. Nothing here calls the job or enqueues it."""
	from tests.conftest import _Process

	job = only_the_weekly_snapshot_due
	seller = make_user("Sales User")
	deal = make_opportunity(
		amount=321, sales_stage="Prospecting", assigned_to=seller, expected_close_date=_month(1)
	)
	frappe.db.commit()
	started = now_datetime()
	scheduler = _Process("scheduler", ["bench", "schedule"])
	try:
		name, deadline = None, time.monotonic() + 240
		while not name and time.monotonic() < deadline:
			assert scheduler.running(), "bench schedule stopped (see its log in the test artifacts)"
			frappe.db.rollback()  # a fresh read of what the worker committed
			name = frappe.db.get_value(
				"Forecast Snapshot", {"taken_how": "Scheduled", "creation": (">=", started)}, "name"
			)
			if not name:
				time.sleep(2)
		assert name, "no snapshot within 4 minutes of starting the scheduler"
		assert _rows_of(name, seller) == [
			(get_first_day(_month(1)), "Prospecting", "Pipeline", "Open", 1, 321, 32.1)
		]
		assert frappe.db.get_value("Forecast Snapshot", name, "taken_how") == "Scheduled"
		log, deadline = [], time.monotonic() + 60
		while "Complete" not in log and time.monotonic() < deadline:
			frappe.db.rollback()
			log = frappe.get_all(
				"Scheduled Job Log",
				{"scheduled_job_type": job.name, "creation": (">=", started)},
				pluck="status",
			)
			time.sleep(0.5)
		assert "Complete" in log
	finally:
		scheduler.stop()
		frappe.db.rollback()
		for snapshot in frappe.get_all("Forecast Snapshot", {"creation": (">=", started)}, pluck="name"):
			frappe.delete_doc("Forecast Snapshot", snapshot, force=True, ignore_permissions=True)
		frappe.delete_doc("Opportunity", deal.name, force=True, ignore_permissions=True)
		frappe.delete_doc("User", seller, force=True, ignore_permissions=True)
		frappe.db.commit()
