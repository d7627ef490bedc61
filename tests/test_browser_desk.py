"""In a real browser, as a salesperson works: full form, quick create from the search bar, filters and saved
filters, bulk comment, Kanban drag, the forecast report and its chart, report view exports.

These flows need only the web server (the desk fixture): none of them waits on a background job or on
socketio (exports and the bulk comment answer in the request)."""

import csv
import io
import re
from urllib.parse import quote

import frappe
import openpyxl
import pytest
from frappe.utils import add_days, get_first_day, getdate, today

from opportunity_suite.services.kanban import BOARD_NAME
from tests.browser_helpers import (
	create_opportunity_in_form,
	pick_link,
	screenshot,
	type_number,
	user_date,
)
from tests.factories import make_user, unique

pytestmark = pytest.mark.browser


@pytest.fixture
def committed():
	"""Opportunities made for (or by) a browser test, committed so the web server sees them; deleted after."""
	made: list[str] = []

	def make(**values):
		doc = frappe.get_doc(
			{
				"doctype": "Opportunity",
				"opportunity_name": unique("Browser deal"),
				"sales_stage": "Prospecting",
				"expected_close_date": add_days(today(), 20),
				**values,
			}
		).insert()
		frappe.db.commit()
		made.append(doc.name)
		return doc

	make.track = made.append
	yield make
	frappe.db.rollback()
	for name in made:
		if frappe.db.exists("Opportunity", name):
			frappe.delete_doc("Opportunity", name, force=True, ignore_permissions=True)
	frappe.db.commit()


def _wait_for_bars(page, within: str):
	"""frappe-charts draws empty bars first and animates them to their values."""
	page.wait_for_function(
		"""(sel) => [...document.querySelectorAll(sel + ' svg.frappe-chart rect.bar')]
			.some(r => parseFloat(r.getAttribute('height')) > 0)""",
		arg=within,
	)


def _latest(name: str):
	frappe.db.rollback()  # see what the web server committed
	return frappe.get_last_doc("Opportunity", filters={"opportunity_name": name})


def test_create_in_the_full_form(desk, committed):
	name = unique("Full form deal")
	create_opportunity_in_form(
		desk, name, 5000, "Value Proposition", add_days(today(), 45), next_step="Send the proposal"
	)
	opp = _latest(name)
	committed.track(opp.name)
	assert (opp.amount, opp.probability, opp.forecast_amount, opp.next_step) == (
		5000,
		30,
		1500,
		"Send the proposal",
	)
	forecast = desk.locator(".frappe-control[data-fieldname='forecast_amount'] .control-value")
	assert "1,500.00" in forecast.inner_text()
	# the related lists, once (saving refreshes the form twice)
	desk.locator(".opportunity-related").first.wait_for()
	desk.wait_for_function("() => !frappe.request.ajax_count")
	heads = desk.locator(".form-dashboard-section .section-head:visible")
	assert [h.strip() for h in heads.all_inner_texts()].count("Related") == 1


def test_quick_create_from_the_search_bar(desk, committed):
	name = unique("Search bar deal")
	desk.goto("/app/opportunity")
	search = desk.locator("#navbar-search")
	search.click()
	search.fill("New Opportunity")
	desk.locator(".awesomplete li:visible").filter(
		has_text=re.compile(r"^\s*New Opportunity\s*$")
	).first.click()
	dialog = desk.locator(".modal.show .modal-dialog")
	dialog.wait_for()
	dialog.locator("input[data-fieldname='opportunity_name']").fill(name)
	pick_link(dialog, "sales_stage", "Qualification")
	date_input = dialog.locator("input[data-fieldname='expected_close_date']")
	date_input.fill(user_date(desk, add_days(today(), 10)))
	dialog.locator(".modal-title").click()
	type_number(dialog, "amount", 700)
	dialog.locator(".btn-primary", has_text="Save").click()
	dialog.wait_for(state="hidden")
	opp = _latest(name)
	committed.track(opp.name)
	assert (opp.sales_stage, opp.probability, opp.forecast_amount) == ("Qualification", 20, 140)


@pytest.fixture
def campaign():
	"""A unique campaign: the route filter that keeps a test's list to its own records."""
	return frappe.generate_hash(length=10)


def test_filter_and_save_a_filter(desk, committed, campaign):
	mine = committed(campaign=campaign, amount=100)
	someone_else = make_user("Sales User")  # a desk user: Guest can't be assigned
	frappe.db.commit()
	theirs = committed(campaign=campaign, amount=200, assigned_to=someone_else)
	filter_name = unique("My campaign")
	try:
		desk.goto(f"/app/opportunity?campaign={campaign}")
		desk.locator(f".list-row-container [data-name='{mine.name}']").first.wait_for()
		assert desk.locator(".list-row-container").count() == 2
		save_input = desk.locator(".list-filters input:visible").first
		save_input.fill(filter_name)
		save_input.press("Enter")
		desk.locator(".filter-pill", has_text=filter_name).first.wait_for()
		frappe.db.rollback()
		saved = frappe.get_doc("List Filter", {"filter_name": filter_name})
		assert (saved.reference_doctype, saved.for_user) == ("Opportunity", "Administrator")
		assert ["Opportunity", "campaign", "=", campaign] in [f[:4] for f in frappe.parse_json(saved.filters)]

		# the shipped "My open opportunities" filter means the current user
		desk.locator(".filter-pill .filter-name", has_text="My open opportunities").first.click()
		desk.wait_for_function(
			"() => cur_list.filter_area.get().some(f => f[1] === 'assigned_to' && f[3] === frappe.session.user)"
		)
		desk.locator(".filter-pill .filter-name", has_text=filter_name).first.click()
		desk.wait_for_function("() => cur_list.filter_area.get().some(f => f[1] === 'campaign')")
		desk.locator(f".list-row-container [data-name='{theirs.name}']").first.wait_for()
	finally:
		frappe.db.rollback()
		frappe.db.delete("List Filter", {"filter_name": filter_name})
		frappe.db.commit()


def test_bulk_add_a_comment_to_three_records(desk, committed, campaign):
	opps = [committed(campaign=campaign) for _ in range(3)]
	desk.goto(f"/app/opportunity?campaign={campaign}")
	for opp in opps:
		desk.locator(f".list-row-container:has([data-name='{opp.name}']) .list-row-checkbox").first.check()
	desk.locator(".actions-btn-group button").first.click()
	desk.locator(".actions-btn-group .dropdown-item", has_text="Add Comment").first.click()
	dialog = desk.locator(".modal.show .modal-dialog")
	dialog.locator(".ql-editor[contenteditable='true']").fill("Sent the <b>price list</b> to all three")
	dialog.locator(".btn-primary", has_text="Add Comment").click()
	desk.locator(".alert-message, .desk-alert", has_text="Comment added to 3").first.wait_for()
	frappe.db.rollback()
	for opp in opps:
		comments = frappe.get_all(
			"Comment",
			filters={
				"reference_doctype": "Opportunity",
				"reference_name": opp.name,
				"comment_type": "Comment",
			},
			fields=["content", "comment_email"],
		)
		assert len(comments) == 1 and comments[0].comment_email == "Administrator"
		assert "price list" in comments[0].content and "<b>" not in comments[0].content  # typed, not HTML
	desk.goto(f"/app/opportunity/{opps[0].name}")
	desk.locator(".timeline-content", has_text="price list").first.wait_for()


def test_move_a_kanban_card_and_see_probability_and_forecast_change(desk, committed, campaign):
	opp = committed(campaign=campaign, amount=1000, sales_stage="Prospecting")
	desk.goto(f"/app/opportunity/view/kanban/{BOARD_NAME}?campaign={campaign}")
	card = desk.locator(f".kanban-card-wrapper[data-name='{opp.name}']")
	card.wait_for()
	target = desk.locator(".kanban-column[data-column-value='Qualification'] .kanban-cards")
	source_box, target_box = card.bounding_box(), target.bounding_box()
	desk.mouse.move(source_box["x"] + 20, source_box["y"] + 15)
	desk.mouse.down()
	steps = 15
	for i in range(1, steps + 1):
		desk.mouse.move(
			source_box["x"] + 20 + (target_box["x"] + 40 - source_box["x"] - 20) * i / steps,
			source_box["y"] + 15 + (target_box["y"] + 30 - source_box["y"] - 15) * i / steps,
		)
		desk.wait_for_timeout(40)
	desk.mouse.up()
	desk.locator(
		f".kanban-column[data-column-value='Qualification'] .kanban-card-wrapper[data-name='{opp.name}']"
	).wait_for()
	for _ in range(60):  # the move is saved by a request of its own
		frappe.db.rollback()
		if frappe.db.get_value("Opportunity", opp.name, "sales_stage") == "Qualification":
			break
		desk.wait_for_timeout(250)
	opp.reload()
	assert (opp.sales_stage, opp.probability, opp.forecast_amount) == ("Qualification", 20, 200)
	desk.reload()
	moved = desk.locator(
		f".kanban-column[data-column-value='Qualification'] .kanban-card-wrapper[data-name='{opp.name}']"
	)
	moved.wait_for()
	text = moved.inner_text()
	assert "20" in text and "200.00" in text


def test_open_the_forecast_report_and_its_chart(desk, committed):
	close = add_days(today(), 35)
	committed(amount=4000, sales_stage="Negotiation/Review", expected_close_date=close)
	desk.goto("/app/query-report/Opportunity Forecast")
	desk.locator(".chart-container svg.frappe-chart").first.wait_for()
	desk.locator(".dt-row .dt-cell__content", has_text="Negotiation/Review").first.wait_for()
	_wait_for_bars(desk, ".chart-container")
	screenshot(desk, "opportunity_forecast_by_month")
	assert desk.locator(".report-summary", has_text="Weighted Pipeline").first.is_visible()
	desk.locator("select[data-fieldname='period']").select_option("Quarter")
	desk.locator(".dt-row .dt-cell__content", has_text="-Q").first.wait_for()


@pytest.fixture
def formula_user():
	"""A committed Sales User whose (valid) address a spreadsheet would run as a formula; removed afterwards
	with what assigning opportunities to them left behind."""
	from tests.records_fixtures import delete_committed_users

	user = make_user("Sales User", email=f"=cmd{frappe.generate_hash(length=8)}@opportunity-suite.test")
	frappe.db.commit()
	yield user
	frappe.db.rollback()
	frappe.db.delete("ToDo", {"allocated_to": user})
	frappe.db.delete("Notification Log", {"for_user": user})
	queued = frappe.get_all("Email Queue Recipient", {"recipient": user}, pluck="parent")
	if queued:
		frappe.db.delete("Email Queue Recipient", {"parent": ("in", queued)})
		frappe.db.delete("Email Queue", {"name": ("in", queued)})
	frappe.db.delete("Access Log", {"report_name": "Opportunity Forecast", "filters": ("like", f"%{user}%")})
	frappe.db.commit()
	delete_committed_users({"user": user})


def test_export_the_forecast_report_with_formulas_neutralised(desk, formula_user, committed):
	"""Menu → Export on the Opportunity Forecast report: the assignee's address, text starting with "=", is
	written as text in the CSV and the XLSX, the counts and sums as numbers."""
	close = add_days(get_first_day(today()), 40)
	committed(amount=-20.5, sales_stage="Qualification", assigned_to=formula_user, expected_close_date=close)
	committed(amount=1000, sales_stage="Qualification", assigned_to=formula_user, expected_close_date=close)
	# the assignee's id is a column of the Stage and Assignee view
	desk.goto(
		f"/app/query-report/Opportunity Forecast?group_by={quote('Stage and Assignee')}"
		f"&assigned_to={quote(formula_user)}"
	)
	desk.locator(".dt-row .dt-cell__content", has_text=formula_user).first.wait_for()
	period = getdate(close).strftime("%Y-%m")

	text = open(_download_export(desk, "CSV"), encoding="utf-8-sig").read()
	# the desk asks for non-numeric quoting: text quoted, numbers bare
	row_start = f'"{period}","Qualification","\'{formula_user}",2,979.5,195.9'
	assert any(line.startswith(row_start) for line in text.splitlines()), text  # then the category columns

	with open(_download_export(desk, "Excel"), "rb") as f:
		workbook = openpyxl.load_workbook(io.BytesIO(f.read()))
	rows = [[c.value for c in row] for row in workbook.worksheets[0].iter_rows()]
	row = next(r for r in rows if r[0] == period)
	assert row[:6] == [period, "Qualification", "'" + formula_user, 2, 979.5, 195.9]
	assert all(isinstance(v, int | float) for v in row[3:6])


def _download_export(desk, file_format: str = "CSV", export_all: bool = False) -> str:
	"""Menu → Export, the file format chosen, Download: the downloaded file's path."""
	desk.locator(".page-actions .menu-btn-group button").first.click()
	desk.locator(".menu-btn-group .dropdown-item", has_text="Export").first.click()
	dialog = desk.locator(".modal.show .modal-dialog")
	dialog.locator("select[data-fieldname='file_format']").select_option(file_format)
	if export_all:
		dialog.locator("input[data-fieldname='export_all_rows']").check()
	with desk.expect_download() as download:
		dialog.locator(".btn-primary", has_text="Download").click()
	path = download.value.path()
	dialog.wait_for(state="hidden")
	return path


def _export(desk, export_all: bool = False) -> list[list[str]]:
	text = open(_download_export(desk, "CSV", export_all), encoding="utf-8-sig").read()
	return list(csv.reader(io.StringIO(text)))


def test_export_selected_rows_current_page_and_all_from_report_view(desk, committed, campaign):
	opps = [committed(campaign=campaign, amount=i + 1) for i in range(25)]
	desk.goto(f"/app/opportunity/view/report?campaign={campaign}")
	desk.locator(".dt-row-0").first.wait_for()

	# the rows' own selection boxes (column 0), not a Check field's value shown in a column
	checkboxes = desk.locator(".dt-scrollable .dt-row .dt-cell--col-0 input[type='checkbox']")
	for i in range(3):
		checkboxes.nth(i).check()
	selected = _export(desk)
	names = {o.name for o in opps}
	assert len(selected) == 1 + 3 and {r[1] for r in selected[1:]} <= names

	for i in range(3):
		checkboxes.nth(i).uncheck()
	page = _export(desk)
	assert len(page) == 1 + 20

	everything = _export(desk, export_all=True)
	assert len(everything) == 1 + 25 and {r[1] for r in everything[1:]} == names


def test_the_opportunities_workspace_shows_cards_chart_and_shortcuts(desk, committed):
	committed(amount=3000, sales_stage="Negotiation/Review", expected_close_date=add_days(today(), 35))
	desk.goto("/app/opportunities")
	for label in ("Open Pipeline", "Weighted Pipeline", "Won This Quarter", "Average Deal Size"):
		desk.locator(".number-widget-box", has_text=label).first.wait_for()
	desk.locator(".widget.dashboard-widget-box", has_text="Weighted Pipeline by Month").locator(
		"svg.frappe-chart"
	).first.wait_for()
	desk.wait_for_function(
		"() => [...document.querySelectorAll('.number-widget-box')].every(b => !b.innerText.includes('Loading'))"
	)
	_wait_for_bars(desk, ".dashboard-widget-box")
	screenshot(desk, "workspace_opportunities")
	desk.locator(".shortcut-widget-box", has_text="Pipeline Kanban").first.click()
	desk.wait_for_url("**/view/kanban/**")
	desk.locator(".kanban-column[data-column-value='Negotiation/Review']").wait_for()
