"""The desk in Chinese (issue 13, "In the user's language"): a Sales Manager whose language is 中文 (zh) goes
through the main flows — the list, a new opportunity saved in the form, the Kanban board, the forecast
report, the import form, the workspace — and sees the app's labels in Chinese, none left in English."""

import re

import frappe
import pytest
from frappe.utils import add_days, today
from playwright.sync_api import expect

from opportunity_suite.services.kanban import BOARD_NAME
from opportunity_suite.services.translations import app_messages, shipped_translations
from tests.browser_helpers import logged_in_page, pick_in_form, screenshot
from tests.factories import make_opportunity
from tests.http_users import make_login_users, remove_login_users
from tests.records_fixtures import delete_committed

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# where the desk shows the app's labels: titles, field labels, section and tab heads, list and report
# column heads, Kanban columns, widgets, indicators and buttons
LABELS = (
	".page-title .title-text, .control-label, .section-head, .form-tabs .nav-link, .list-row-head span,"
	" .kanban-title, .dt-cell--header .dt-cell__content, .widget-title, .indicator-pill, .page-actions .btn,"
	" .ce-header, .link-text"
)
DEAL = "华东区年度采购项目"
CAMPAIGN = f"zh-{frappe.generate_hash(length=6)}"  # the test's deals only, among what other tests leave


@pytest.fixture(scope="module")
def manager():
	users = make_login_users(manager="Sales Manager")
	frappe.db.set_value("User", users["manager"], "language", "zh")
	frappe.db.commit()
	frappe.clear_cache(user=users["manager"])
	frappe.translate.clear_cache()  # the web server reads the app's translation file afresh
	try:
		yield users["manager"]
	finally:
		remove_login_users(users)


@pytest.fixture(scope="module")
def deal(manager):
	opp = make_opportunity(
		opportunity_name=DEAL,
		amount=120000,
		sales_stage="Prospecting",
		expected_close_date=add_days(today(), 20),
		campaign=CAMPAIGN,
	)
	# a step planned ahead: an open deal, not a stale one (whose indicator says so, services/stale.py)
	frappe.get_doc(
		{
			"doctype": "ToDo",
			"description": "回访客户",
			"reference_type": "Opportunity",
			"reference_name": opp.name,
			"date": add_days(today(), 3),
		}
	).insert()
	frappe.db.commit()
	yield opp
	frappe.db.rollback()
	frappe.db.delete("ToDo", {"reference_type": "Opportunity", "reference_name": opp.name})
	delete_committed("Opportunity", [opp.name])
	frappe.db.commit()


@pytest.fixture
def zh_desk(browser, web_server, manager, deal, request):
	context, page = logged_in_page(browser, web_server, manager)
	yield page
	screenshot(page, f"zh_{request.node.name}")
	context.close()


@pytest.fixture(scope="module")
def english_labels():
	"""The app's strings that read differently in Chinese (an English label on screen is one left over)."""
	zh = shipped_translations("zh")
	return {message for message in app_messages() if zh.get(message) and zh[message] != message}


def _left_in_english(page, english_labels) -> list[str]:
	"""The app's English labels among what the screen shows where labels go (it must show some)."""
	visible = """(selector) => [...document.querySelectorAll(selector)].filter((n) => n.offsetParent !== null)
		.map((n) => n.innerText.trim().replace(/\\s+/g, " ")).filter(Boolean)"""
	# a view may re-render once more after its requests end (the report redraws its table when its
	# chart and filters settle): wait until the labels are on screen again, then read them
	page.wait_for_function(f"(selector) => ({visible})(selector).length >= 3", arg=LABELS)
	texts = page.evaluate(visible, LABELS)
	assert len(texts) >= 3, texts
	return sorted({text for text in texts if text in english_labels})


def _zh(message: str) -> str:
	translation = shipped_translations("zh").get(message)
	assert translation, f"no Chinese for {message!r}: see tests/test_translations.py"
	return translation


def _settled(page):
	page.wait_for_function("() => frappe.boot && !frappe.request.ajax_count")


def test_the_list_in_chinese(zh_desk, english_labels):
	page = zh_desk
	page.goto(f"/app/opportunity?campaign={CAMPAIGN}")
	row = page.locator(".list-row-container", has_text=DEAL)
	row.wait_for()
	_settled(page)
	expect(page.locator(".page-title .title-text")).to_have_text("商机")
	expect(row.locator(".indicator-pill", has_text="进行中")).not_to_have_count(0)
	expect(row.get_by_text("初步接洽")).not_to_have_count(0)  # the stage, a translated record
	expect(page.locator(".list-row-head")).to_contain_text("阶段")  # 销售阶段 or 阶段
	assert not _left_in_english(page, english_labels)


def test_a_new_opportunity_in_the_chinese_form(zh_desk, english_labels):
	page = zh_desk
	name = f"深圳智能仓储 {frappe.generate_hash(length=5)}"
	page.goto("/app/opportunity/new")
	form = page.locator(".form-layout")
	form.locator("input[data-fieldname='opportunity_name']").wait_for()
	expect(form.locator(".control-label", has_text="商机名称")).not_to_have_count(0)
	expect(form.locator(".control-label", has_text="预计成交日期")).not_to_have_count(0)
	form.locator("input[data-fieldname='opportunity_name']").fill(name)
	form.locator("input[data-fieldname='amount']").fill("50000")
	pick_in_form(form, "sales_stage", "谈判/审核")  # the stage found by its Chinese name
	# the close date picked in the (Chinese) date picker: the 15th of next month
	form.locator("input[data-fieldname='expected_close_date']").click()
	picker = page.locator(".datepicker.active")
	picker.locator(".datepicker--nav-action[data-action='next']").click()
	picker.locator(".datepicker--cell-day:not(.-other-month-)", has_text=re.compile(r"^15$")).click()
	page.wait_for_function("() => (cur_frm.doc.expected_close_date || '').endsWith('-15')")
	try:
		page.keyboard.press("Control+s")
		page.wait_for_function(
			"() => cur_frm && !cur_frm.is_new() && !cur_frm.is_dirty() && cur_frm.doc.sales_stage === 'Negotiation/Review'"
		)
		_settled(page)
		# a deal just made has nothing planned: the stale radar's indicator, in Chinese (停滞)
		pill = page.locator(".page-head .indicator-pill").first.inner_text().strip()
		assert pill in ("进行中", "停滞"), pill
		expect(form.locator("[data-fieldname='sales_stage']", has_text="谈判/审核")).not_to_have_count(0)
		expect(form.locator(".control-label", has_text="预测金额")).not_to_have_count(0)
		expect(form.locator("[data-fieldname='status'] .control-value", has_text="进行中")).not_to_have_count(
			0
		)
		assert not _left_in_english(page, english_labels)
	finally:
		frappe.db.rollback()
		delete_committed(
			"Opportunity", frappe.get_all("Opportunity", {"opportunity_name": name}, pluck="name")
		)
		frappe.db.commit()


def test_the_kanban_board_in_chinese(zh_desk, english_labels):
	page = zh_desk
	page.goto(f"/app/opportunity/view/kanban/{BOARD_NAME}?campaign={CAMPAIGN}")
	page.locator(".kanban-title", has_text="初步接洽").first.wait_for()
	page.locator(".kanban-card-wrapper", has_text=DEAL).first.wait_for()
	_settled(page)
	expect(page.locator(".page-title .title-text")).to_have_text("商机（按销售阶段）")
	titles = page.locator(".kanban-title").all_inner_texts()
	assert {"资格确认", "谈判/审核"} <= {title.strip() for title in titles}
	assert not _left_in_english(page, english_labels)


def test_the_forecast_report_in_chinese(zh_desk, english_labels):
	page = zh_desk
	page.goto("/app/query-report/Opportunity Forecast")
	page.locator(".dt-cell--header .dt-cell__content", has_text="加权销售漏斗").first.wait_for()
	page.locator(".dt-row .dt-cell__content", has_text="初步接洽").first.wait_for()
	_settled(page)
	expect(page.locator(".page-title .title-text")).to_have_text("商机预测")
	heads = {text.strip() for text in page.locator(".dt-cell--header .dt-cell__content").all_inner_texts()}
	assert {"销售阶段", "商机", "销售漏斗"} <= heads  # the default view: per period and stage
	expect(page.locator("select[data-fieldname='status'] option:checked")).to_have_text("进行中")
	expect(page.locator("select[data-fieldname='group_by'] option[value='Stage and Assignee']")).to_have_text(
		"阶段和负责人"
	)
	assert not _left_in_english(page, english_labels)


def test_the_import_form_in_chinese(zh_desk, english_labels):
	page = zh_desk
	page.goto("/app/opportunity-import/new")
	file_label = _zh(frappe.get_meta("Opportunity Import").get_label("import_file"))
	page.locator(".control-label", has_text=file_label).first.wait_for()
	_settled(page)
	expect(page.locator(".page-title .title-text")).to_have_text(re.compile(r"^\s*新"))
	assert not _left_in_english(page, english_labels)


def test_the_workspace_in_chinese(zh_desk, english_labels):
	page = zh_desk
	workspace = frappe.get_doc("Workspace", "Opportunities")
	page.goto("/app/opportunities")
	for widget in (workspace.number_cards[0].label, workspace.shortcuts[0].label):
		page.locator(".widget-title", has_text=_zh(widget)).first.wait_for()
	_settled(page)
	expect(page.locator(".page-title .title-text")).to_have_text(_zh(workspace.title))
	assert not _left_in_english(page, english_labels)
