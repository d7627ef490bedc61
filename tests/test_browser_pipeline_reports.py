"""The pipeline-intelligence reports in Chromium, as a Sales User and a Sales Manager holding one role each,
on a small pipeline with a second currency: the numbers on screen are the ones worked out by hand, each
report draws its chart, a ratio's total row is blank (not Frappe's mean of the rows' percentages), and the
Forecast Accuracy report is for managers only."""

import datetime

import frappe
import pytest
from frappe.utils import add_days, add_months, get_first_day, getdate, now_datetime, today
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

from tests.browser_helpers import logged_in_page, screenshot
from tests.factories import make_opportunity, make_picklist_value
from tests.http_users import make_login_users, remove_login_users

pytestmark = pytest.mark.browser


def _month(offset: int, day: int = 10):
	return getdate(add_months(get_first_day(today()), offset)).replace(day=day)


@pytest.fixture(scope="module")
def pipeline():
	"""Next month, the seller's: 1000 Prospecting (10 %), 2000 EUR × 1.1 = 2200 Negotiation/Review (80 %,
	Commit), 500 won against two competitors, 300 EUR × 1.1 = 330 lost on Price to the first of them; a quota
	of 3000. Last month: 700
	won, and a snapshot taken 30 days before its end that said 800 (1000 Commit at 80 %). Two stays in
	Prospecting of 2 and 4 days. The seller reports to the manager."""
	frappe.db.rollback()
	frappe.set_user("Administrator")
	users = make_login_users(seller="Sales User", manager="Sales Manager")
	seller, manager = users["seller"], users["manager"]
	frappe.db.set_value("User", seller, "reports_to", manager)
	default = frappe.db.get_single_value("Opportunity Settings", "default_currency")
	second = "EUR" if default != "EUR" else "USD"
	made: list[str] = []

	def deal(**values):
		doc = make_opportunity(assigned_to=seller, expected_close_date=_month(1), **values)
		made.append(doc.name)
		return doc

	deal(amount=1000, sales_stage="Prospecting")
	deal(amount=2000, currency=second, exchange_rate=1.1, sales_stage="Negotiation/Review")
	rival = make_picklist_value("Competitor", "Rival").name
	other_rival = make_picklist_value("Competitor", "Rival").name
	deal(
		amount=500,
		sales_stage="Closed Won",
		competitors=[{"competitor": rival}, {"competitor": other_rival}],
	)
	deal(
		amount=300,
		currency=second,
		exchange_rate=1.1,
		sales_stage="Closed Lost",
		loss_reason="Price",
		competitors=[{"competitor": rival}],
	)
	won_before = make_opportunity(
		amount=700, sales_stage="Closed Won", assigned_to=seller, expected_close_date=_month(-1)
	)
	made.append(won_before.name)
	for days in (2, 4):
		moved = deal(amount=10, sales_stage="Prospecting")
		since = now_datetime() - datetime.timedelta(days=days)
		frappe.db.set_value("Opportunity", moved.name, "stage_since", since, update_modified=False)
		moved.reload()
		moved.sales_stage = "Qualification"
		moved.save()
	quota = frappe.get_doc(
		{
			"doctype": "Sales Quota",
			"user": seller,
			"period_type": "Month",
			"period_start": _month(1),
			"amount": 3000,
		}
	).insert()
	last_month = get_first_day(_month(-1))
	snapshot = frappe.get_doc(
		{
			"doctype": "Forecast Snapshot",
			"snapshot_date": add_days(add_months(last_month, 1), -31),
			"taken_how": "Scheduled",
			"rows": [
				{
					"period_start": last_month,
					"assigned_to": seller,
					"opportunities": 1,
					"sales_stage": "Negotiation/Review",
					"forecast_category": "Commit",
					"status": "Open",
					"base_amount": 1000,
					"base_forecast_amount": 800,
				}
			],
		}
	).insert()
	frappe.db.commit()
	yield frappe._dict(seller=seller, manager=manager, last_month=last_month, rivals=(rival, other_rival))
	frappe.db.rollback()
	frappe.set_user("Administrator")
	for name in made:
		frappe.delete_doc("Opportunity", name, force=True, ignore_permissions=True)
	frappe.delete_doc("Sales Quota", quota.name, force=True, ignore_permissions=True)
	frappe.delete_doc("Forecast Snapshot", snapshot.name, force=True, ignore_permissions=True)
	for name in (rival, other_rival):
		frappe.delete_doc("Competitor", name, force=True, ignore_permissions=True)
	frappe.db.commit()
	remove_login_users(users)


@pytest.fixture
def page_of(browser, web_server, request):
	contexts = []

	def open_as(user: str):
		context, page = logged_in_page(browser, web_server, user)
		contexts.append((context, page))
		return page

	yield open_as
	for context, page in contexts:
		screenshot(page, f"{request.node.name}_{len(contexts)}")
		context.close()


def _run(page, report: str, **filters):
	"""Open `report` with `filters` and wait until its rows, chart and total row are on screen."""
	from urllib.parse import urlencode

	page.goto(f"/app/query-report/{report}?{urlencode(filters)}")
	page.wait_for_function(
		"""(name) => frappe.query_report && frappe.query_report.report_name === name
			&& frappe.query_report.datatable && frappe.query_report.data && frappe.query_report.data.length
			&& !frappe.request.ajax_count""",
		arg=report,
	)
	page.locator(".chart-container svg.frappe-chart").first.wait_for()
	# frappe-charts draws empty bars, then animates them to their values; a line chart draws its path
	page.wait_for_function(
		"""() => [...document.querySelectorAll('.chart-container svg.frappe-chart rect.bar')]
			.some((bar) => parseFloat(bar.getAttribute('height')) > 0)
			|| document.querySelector('.chart-container svg.frappe-chart path.line-graph-path')"""
	)


# the texts of a column's cells, the rows' then the total row's (when the report has one)
CELLS = """(fieldname) => {
	const table = frappe.query_report.datatable;
	const column = table.getColumns().find((c) => c.id === fieldname);
	const text = (root) => [...root.querySelectorAll(`.dt-row .dt-cell--col-${column.colIndex} .dt-cell__content`)]
		.map((cell) => cell.innerText.trim());
	return [...text(table.bodyScrollable), ...text(table.footer)];
}"""


COLUMNS = "() => frappe.query_report.datatable.getColumns().map((c) => c.id)"


def _cells(page, fieldname: str, expected: list[str]) -> list[str]:
	"""The column's cells once they read `expected` (the datatable renders more than once), else as they
	are after 15 s, for the assertion to show."""
	try:
		page.wait_for_function(
			f"(a) => JSON.stringify(({CELLS})(a.fieldname)) === JSON.stringify(a.expected)",
			arg={"fieldname": fieldname, "expected": expected},
			timeout=15_000,
		)
	except PlaywrightTimeoutError:
		pass
	return page.evaluate(CELLS, fieldname)


def _expect(page, fieldname: str, expected: list[str]):
	assert _cells(page, fieldname, expected) == expected, fieldname


def _expect_summary(page, label: str, value: str):
	item = page.locator(".report-summary .summary-item", has=page.locator(".summary-label", has_text=label))
	expect(item.locator(".summary-value")).to_have_text(value)


def test_the_forecast_by_owner_shows_quota_attainment_and_coverage(pipeline, page_of):
	page = page_of(pipeline.seller)
	start = get_first_day(_month(1))
	_run(
		page,
		"Opportunity Forecast",
		group_by="Owner",
		from_date=start,
		to_date=add_days(add_months(start, 1), -1),
		assigned_to=pipeline.seller,
	)
	# open weighted 100 + 1760 + 2 × 2 (the lost deal and the won one are not open), won 500 of a 3000 quota
	_expect(page, "commit", ["$ 2,200.00", "$ 2,200.00"])
	_expect(page, "open_weighted", ["$ 1,864.00", "$ 1,864.00"])  # and the two 10s in Qualification at 20 %
	_expect(page, "won", ["$ 500.00", "$ 500.00"])
	_expect(page, "attainment", ["16.667%", ""])  # the total row leaves the ratios blank, not their mean
	_expect(page, "coverage", ["0.75", ""])
	_expect_summary(page, "Quota", "$ 3,000.00")
	_expect_summary(page, "Attainment (%)", "16.7%")


def test_the_forecast_opens_per_stage_and_drills_into_assignees(pipeline, page_of):
	"""As the Sales Manager, the report's default view (Group By Stage) is a row per month × stage, its
	sellers added up (no Assigned To column); choosing Stage and Assignee splits them. The team's open deals
	next month: the seller's 1000 Prospecting, 20 Qualification and 2200 Negotiation/Review, and the
	manager's own 400 Prospecting."""
	own = make_opportunity(
		amount=400, sales_stage="Prospecting", assigned_to=pipeline.manager, expected_close_date=_month(1)
	)
	frappe.db.commit()
	try:
		page = page_of(pipeline.manager)
		start = get_first_day(_month(1))
		_run(
			page,
			"Opportunity Forecast",
			from_date=start,
			to_date=add_days(add_months(start, 1), -1),
			team=pipeline.manager,
		)
		expect(page.locator("select[data-fieldname='group_by']")).to_have_value("Stage")
		_expect(page, "sales_stage", ["Prospecting", "Qualification", "Negotiation/Review", ""])
		_expect(page, "base_amount", ["$ 1,400.00", "$ 20.00", "$ 2,200.00", "$ 3,620.00"])
		assert "sales_stage" in page.evaluate(COLUMNS)
		assert "assigned_to" not in page.evaluate(COLUMNS)
		screenshot(page, "opportunity_forecast_by_stage")

		page.locator("select[data-fieldname='group_by']").select_option("Stage and Assignee")
		page.wait_for_function(
			"""() => frappe.query_report.datatable.getColumns().some((c) => c.id === 'assigned_to')
				&& !frappe.request.ajax_count"""
		)
		# by the stage's sequence, then the assignee's id
		people = sorted([pipeline.seller, pipeline.manager])
		by_person = {pipeline.seller: "$ 1,000.00", pipeline.manager: "$ 400.00"}
		_expect(page, "assigned_to", [*people, pipeline.seller, pipeline.seller, ""])
		_expect(
			page,
			"base_amount",
			[*(by_person[p] for p in people), "$ 20.00", "$ 2,200.00", "$ 3,620.00"],
		)
		_expect_summary(page, "Weighted Pipeline", "$ 1,904.00")  # 40 + 100 + 4 + 1760
		screenshot(page, "opportunity_forecast_by_stage_and_assignee")
	finally:
		frappe.db.rollback()
		frappe.delete_doc("Opportunity", own.name, force=True, ignore_permissions=True)
		frappe.db.commit()


def test_forecast_accuracy_for_the_manager_and_not_the_seller(pipeline, page_of):
	filters = {
		"from_date": pipeline.last_month,
		"to_date": add_days(add_months(pipeline.last_month, 1), -1),
		"team": pipeline.manager,
	}
	page = page_of(pipeline.manager)
	_run(page, "Forecast Accuracy", **filters)
	_expect(page, "forecast", ["$ 800.00"])
	_expect(page, "won", ["$ 700.00"])
	_expect(page, "bias", ["$ 100.00"])
	_expect(page, "direction", ["Over"])

	seller_page = page_of(pipeline.seller)
	seller_page.goto("/app/query-report/Forecast Accuracy")
	seller_page.locator(
		".modal:visible", has_text="You don't have access to Report: Forecast Accuracy"
	).wait_for()


def test_win_loss_rows_name_what_is_missing_and_the_total_row_has_the_true_rates(pipeline, page_of):
	page = page_of(pipeline.seller)
	_run(page, "Win Loss", dimension="Loss Reason", assigned_to=pipeline.seller)
	# won: 500 and 700 (no loss reason); lost: 330 on Price
	_expect(page, "grouped", ["(none)", "Price", "Total"])
	_expect(page, "won_amount", ["$ 1,200.00", "$ 0.00", "$ 1,200.00"])
	_expect(page, "win_rate", ["100%", "0%", "66.667%"])  # 2 of 3, not the rows' mean (50 %)
	_expect_summary(page, "Win Rate (%)", "66.7%")


def test_win_loss_by_competitor_totals_each_deal_once(pipeline, page_of):
	"""The 500 won against both rivals is in both their rows; the total row counts it once: won 500 and 700
	(2 deals, 1200), lost 330 (1 deal); win rate 2 of 3, by amount 1200 / 1530."""
	both, second = pipeline.rivals  # rows: both (2 deals), "(none)" (the 700), the second rival (the 500)
	page = page_of(pipeline.seller)
	_run(page, "Win Loss", dimension="Competitor", assigned_to=pipeline.seller)
	_expect(page, "grouped", [both, "(none)", second, "Total"])
	_expect(page, "won", ["1", "1", "1", "2"])
	_expect(page, "won_amount", ["$ 500.00", "$ 700.00", "$ 500.00", "$ 1,200.00"])
	_expect(page, "lost", ["1", "0", "0", "1"])
	_expect(page, "lost_amount", ["$ 330.00", "$ 0.00", "$ 0.00", "$ 330.00"])
	_expect(page, "win_rate", ["50%", "100%", "100%", "66.667%"])
	_expect(page, "win_rate_amount", ["60.241%", "100%", "100%", "78.431%"])
	_expect_summary(page, "Won", "2")


def test_time_in_stage_by_stage(pipeline, page_of):
	page = page_of(pipeline.seller)
	_run(page, "Time in Stage", assigned_to=pipeline.seller, stage="Prospecting")
	_expect(page, "stage", ["Prospecting"])  # the Stage filter: that stage alone
	_expect(page, "median_days", ["3.0"])
	_expect(page, "p75_days", ["3.5"])
	_expect(page, "conversion", ["100%"])
	_expect(page, "open_now", ["1"])
	_expect(page, "days_in_stage", [""])  # a stage's row has none of its own


def test_a_manager_takes_a_snapshot_from_the_list_and_a_seller_has_no_button(pipeline, page_of):
	started = now_datetime()
	page = page_of(pipeline.manager)
	page.goto("/app/forecast-snapshot")
	page.get_by_role("button", name="Take Snapshot Now").click()
	page.locator(".alert-message", has_text="Snapshot").wait_for()
	try:
		frappe.db.rollback()
		taken = frappe.get_all(
			"Forecast Snapshot",
			filters={"creation": (">=", started), "taken_by": pipeline.manager},
			fields=["name", "taken_how"],
		)
		assert [t.taken_how for t in taken] == ["On Demand"]
		rows = frappe.get_all(
			"Forecast Snapshot Row",
			filters={"parent": taken[0].name, "assigned_to": pipeline.seller, "status": "Open"},
			fields=["sales_stage", "base_amount", "base_forecast_amount"],
			order_by="sales_stage",
		)
		# next month's open deals, in the default currency (the second currency through its rate)
		assert [(r.sales_stage, r.base_amount, r.base_forecast_amount) for r in rows] == [
			("Negotiation/Review", 2200, 1760),
			("Prospecting", 1000, 100),
			("Qualification", 20, 4),
		]
	finally:
		for name in frappe.get_all("Forecast Snapshot", {"creation": (">=", started)}, pluck="name"):
			frappe.delete_doc("Forecast Snapshot", name, force=True, ignore_permissions=True)
		frappe.db.commit()

	seller_page = page_of(pipeline.seller)
	seller_page.goto("/app/forecast-snapshot")
	seller_page.get_by_text("You are not permitted to open Forecast Snapshot.").wait_for()
	assert seller_page.get_by_role("button", name="Take Snapshot Now").count() == 0
