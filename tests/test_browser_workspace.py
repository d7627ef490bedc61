"""The Opportunities workspace as a Sales User and a Sales Manager see it at 1440×900 (issue 13, "A
workspace that finds everything"): every record of the product grouped in cards, each link only for a role
that may open it, "Hot Deals" opening the report, the chart's axis in months, compact number cards."""

import re

import frappe
import pytest
from frappe.utils import add_days, getdate, today

from tests.browser_helpers import logged_in_page, screenshot
from tests.factories import make_opportunity
from tests.http_users import make_login_users, remove_login_users
from tests.records_fixtures import delete_committed

VIEWPORT = {"width": 1440, "height": 900}

# card → links, as a person looks for them
CARDS = {
	"Sales": [
		"Opportunities",
		"Leads",
		"Opportunity Forecast",
		"Hot Deals",
		"Opportunities Closing This Month",
	],
	"Forecasting": [
		"Forecast Accuracy",
		"Win Loss",
		"Time in Stage",
		"Sales Quotas",
		"Forecast Snapshots",
		"Stage History",
	],
	"Customers": ["Organizations", "Contacts"],
	"Quotes and Orders": ["Quotes", "Sales Orders", "Projects"],
	"Products and Services": ["Products", "Services"],
	"Import and Alerts": ["Opportunity Import", "Alert Rules", "Alert Log"],
	"Settings": ["Opportunity Settings", "Project Mapping"],
	"Picklists": ["Sales Stages", "Opportunity Types", "Lead Sources", "Lost Reasons", "Competitors"],
}
MANAGERS_ONLY = {"Alert Rules", "Alert Log", "Forecast Accuracy", "Forecast Snapshots"}


@pytest.fixture(scope="module")
def people():
	users = make_login_users(manager="Sales Manager", seller="Sales User")
	try:
		yield {"Sales Manager": users["manager"], "Sales User": users["seller"]}
	finally:
		remove_login_users(users)


@pytest.fixture(scope="module")
def pipeline():
	"""Two deals over the next months, so that the chart and the cards have numbers (4,200,000 in all)."""
	deals = [
		make_opportunity(
			amount=3_000_000, sales_stage="Negotiation/Review", expected_close_date=add_days(today(), 40)
		),
		make_opportunity(
			amount=1_200_000, sales_stage="Proposal/Price Quote", expected_close_date=add_days(today(), 100)
		),
	]
	frappe.db.commit()
	try:
		yield deals
	finally:
		frappe.db.rollback()
		delete_committed("Opportunity", [d.name for d in deals])
		frappe.db.commit()


def _desk_as(browser, web_server, user):
	return logged_in_page(browser, web_server, user, VIEWPORT["width"], VIEWPORT["height"])


@pytest.fixture(params=["Sales User", "Sales Manager"])
def role_desk(request, browser, web_server, people):
	role = request.param
	context, page = _desk_as(browser, web_server, people[role])
	yield role, page
	screenshot(page, f"workspace_{frappe.scrub(role)}")
	context.close()


def _open_workspace(page):
	"""Open the workspace and wait until its last card (Picklists) is drawn with its links."""
	page.goto("/app/opportunities")
	page.wait_for_function(
		"""() => [...document.querySelectorAll('.links-widget-box')].some((card) =>
			card.innerText.includes('Picklists') && card.querySelector('.link-item'))"""
	)
	page.wait_for_function("() => !frappe.request.ajax_count")


def _cards(page) -> dict[str, list[str]]:
	return page.evaluate(
		"""() => Object.fromEntries([...document.querySelectorAll('.links-widget-box')].map((card) => [
			card.querySelector('.widget-title').innerText.trim(),
			[...card.querySelectorAll('.link-item .link-text')].map((link) => link.innerText.trim()),
		]))"""
	)


@pytest.mark.browser
@pytest.mark.slow
def test_the_workspace_links_every_record_the_role_may_open(role_desk):
	role, page = role_desk
	_open_workspace(page)
	expected = {
		card: [label for label in links if role == "Sales Manager" or label not in MANAGERS_ONLY]
		for card, links in CARDS.items()
	}
	assert _cards(page) == expected
	# sample data is a System Manager's
	assert not page.get_by_text("Sample Data").count()
	# every link shown opens for this role: its DocType is readable (Frappe hid the others), and its
	# report is one the role may run
	targets = page.evaluate(
		"""() => [...document.querySelectorAll('.links-widget-box a.link-item')].map((a) => ({
			type: a.getAttribute('type'), href: a.getAttribute('href'),
		}))"""
	)
	assert len(targets) == sum(len(links) for links in expected.values())
	for target in targets:
		assert target["href"].startswith("/app/"), target
		assert "/app/report/" not in target["href"], target  # a report's settings form, not the report


@pytest.mark.browser
@pytest.mark.slow
def test_hot_deals_opens_the_report_with_the_hot_deals(role_desk, pipeline):
	_role, page = role_desk
	_open_workspace(page)
	page.locator(".links-widget-box .link-item", has_text="Hot Deals").click()
	page.wait_for_url("**/app/opportunity/view/report/Hot*Deals**")
	page.locator(".report-view .dt-scrollable .dt-row").first.wait_for()
	page.wait_for_function("() => !frappe.request.ajax_count")
	assert page.evaluate("cur_list && cur_list.view_name") == "Report"
	assert page.evaluate("cur_list.report_name") == "Hot Deals"
	body = page.locator(".report-view .dt-scrollable").inner_text()
	assert pipeline[0].name in body and pipeline[1].name in body  # 80 % and 65 %: hot


@pytest.mark.browser
@pytest.mark.slow
def test_the_chart_reads_months_and_the_cards_read_compact_amounts(role_desk, pipeline):
	_role, page = role_desk
	_open_workspace(page)
	chart = page.locator(".widget.dashboard-widget-box", has_text="Weighted Pipeline by Month")
	# frappe-charts draws empty bars first and animates them to their values
	page.wait_for_function(
		"""() => [...document.querySelectorAll('.dashboard-widget-box svg.frappe-chart rect.bar')]
			.some((bar) => parseFloat(bar.getAttribute('height')) > 0)"""
	)
	page.wait_for_function(
		"() => [...document.querySelectorAll('.number-widget-box')].every(b => !b.innerText.includes('Loading'))"
	)
	labels = chart.locator("svg.frappe-chart .x.axis text").evaluate_all(
		"(texts) => texts.map((text) => text.textContent.trim())"
	)
	shown = [label for label in labels if label]
	assert len(shown) >= 6, labels
	for label in shown:
		assert re.fullmatch(r"[A-Z][a-z]{2} \d{4}", label), labels  # Jan 2027, never "202 ..."
	open_pipeline = (
		page.locator(".number-widget-box", has_text="Open Pipeline").locator(".number").inner_text().strip()
	)
	# 4,200,000 and whatever else is open on the site: at most three digits, a unit, no trailing zeros
	# ("$ 4.2 M", "$ 128 K"; Frappe's own card reads "$ 128.00 K")
	assert re.fullmatch(r"\D+ ?\d{1,3}(\.\d?[1-9])? ?[KMB]", open_pipeline), open_pipeline


@pytest.mark.browser
@pytest.mark.slow
def test_the_charts_bars_show_the_reports_sums_and_open_its_period_view(role_desk, people, pipeline):
	"""The workspace chart draws the report's period view (Group By Period: a row per month): a bar's
	tooltip reads the month's pipeline and weighted pipeline as the report sums them for this user, and
	the chart's "Opportunity Forecast Report" opens the report on that same view."""
	from playwright.sync_api import expect

	from opportunity_suite.services import forecast_report
	from tests.conversion_fixtures import as_user

	role, page = role_desk
	chart_doc = frappe.get_doc("Dashboard Chart", "Weighted Pipeline by Month")
	frappe.db.rollback()  # a fresh snapshot: the fixture's deals, as the web server reads them
	_columns, rows, _m, chart_data, _s = as_user(
		people[role], forecast_report.run, frappe.parse_json(chart_doc.filters_json)
	)
	month = getdate(pipeline[0].expected_close_date).strftime("%Y-%m")
	[row] = [r for r in rows if r["period"] == month]
	index = [r["period"] for r in rows].index(month)
	label = chart_data["data"]["labels"][index]
	_open_workspace(page)
	chart = page.locator(".widget.dashboard-widget-box", has_text="Weighted Pipeline by Month")
	bar = chart.locator(f"svg.frappe-chart .dataset-1 rect.bar[data-point-index='{index}']")
	page.wait_for_function(  # drawn, and grown to its value (frappe-charts animates from zero)
		"""(i) => [...document.querySelectorAll(
			`.dashboard-widget-box svg.frappe-chart .dataset-1 rect.bar[data-point-index='${i}']`
		)].some((bar) => parseFloat(bar.getAttribute('height')) > 0)""",
		arg=index,
	)
	expected = page.evaluate(
		"""(values) => values.map((v) => frappe.format(v, {fieldtype: 'Currency'},
			{always_show_decimals: true, inline: true}))""",
		[row["base_amount"], row["base_forecast_amount"]],
	)
	assert row["base_amount"] >= 3_000_000 and row["base_forecast_amount"] >= 2_400_000  # the fixture's 80 %
	bar.hover()
	tip = chart.locator(".graph-svg-tip")
	expect(tip.locator(".title")).to_contain_text(label)
	for value in expected:
		expect(tip).to_contain_text(value)
	screenshot(page, f"workspace_chart_{frappe.scrub(role)}")
	# the chart's menu → the report, on the view the chart reads
	chart.locator(".chart-actions button, .chart-actions .dropdown-toggle").first.click()
	chart.locator("a[data-action='action-list']").click()
	page.wait_for_url("**/app/query-report/Opportunity*Forecast**")
	shown_view = """() => window.frappe && frappe.query_report && frappe.query_report.get_filter_value
		&& frappe.query_report.get_filter_value('group_by') === 'Period'
		&& document.querySelectorAll('.report-wrapper .dt-scrollable .dt-row').length === 12
		&& frappe.query_report.$loading.is(':hidden') && !frappe.request.ajax_count"""
	page.wait_for_function(shown_view)
	body = page.locator(".report-wrapper .dt-scrollable")
	expect(body).to_contain_text(expected[1].replace("\xa0", " ").split(" ")[-1])
	shown = page.evaluate("frappe.query_report.columns.map((c) => c.fieldname)")
	assert "sales_stage" not in shown and "base_forecast_amount" in shown, shown
	page.wait_for_load_state("networkidle")  # the filters from the route may run it once more
	page.wait_for_function(shown_view)
	screenshot(page, f"workspace_chart_report_{frappe.scrub(role)}")
