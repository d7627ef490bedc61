"""Language a person reads (issue 13): the alert rule's condition picker and the Project Mapping grid show
field labels, not fieldnames; the Alert Rule's Document Type offers the app's records only; a link the app
filters has no raw "Filters applied for …" line. As a Sales Manager, at 1440×900."""

import frappe
import pytest

from opportunity_suite.services.alerts import allowed_doctypes
from opportunity_suite.services.alerts.example import EXAMPLE_RULE
from tests.browser_helpers import logged_in_page, screenshot
from tests.http_users import make_login_users, remove_login_users


@pytest.fixture(scope="module")
def manager():
	users = make_login_users(manager="Sales Manager")
	try:
		yield users["manager"]
	finally:
		remove_login_users(users)


@pytest.fixture
def manager_desk(browser, web_server, manager, request):
	context, page = logged_in_page(browser, web_server, manager)
	yield page
	screenshot(page, request.node.name)
	context.close()


def _suggestions(page, input_locator, text: str = "") -> list[str]:
	"""Type into a Link or Autocomplete field and read the suggestions it opens: each one's first line
	(a link's suggestion may have a description under its name)."""
	input_locator.click()
	input_locator.fill(text)
	input_locator.press("End")
	suggestions = page.locator(".awesomplete > ul:visible").first
	suggestions.locator("> *").first.wait_for()
	page.wait_for_function("() => !frappe.request.ajax_count")
	texts = suggestions.locator("> *").all_inner_texts()
	return [t.strip().split("\n")[0].strip() for t in texts if t.strip()]


@pytest.mark.browser
@pytest.mark.slow
def test_the_alert_rules_conditions_read_field_labels(manager_desk):
	page = manager_desk
	page.goto(f"/app/alert-rule/{EXAMPLE_RULE}")
	page.wait_for_function(
		"""() => {
			const df = window.cur_frm && cur_frm.doc.name && cur_frm.fields_dict.conditions.grid.get_docfield("fieldname");
			return df && (df.options || []).some((o) => o.value === "amount");
		}"""
	)
	row = page.locator(".frappe-control[data-fieldname='conditions'] .grid-body .grid-row[data-idx='1']")
	cell = row.locator("[data-fieldname='fieldname']").first
	cell.wait_for()
	assert cell.inner_text().strip() == "Amount"  # stored: amount
	# the picker offers labels; choosing one stores its fieldname
	cell.click()
	picker = row.locator("input[data-fieldname='fieldname']")
	offered = _suggestions(page, picker, "Expected")
	assert "Expected Close Date" in offered and "expected_close_date" not in offered
	page.locator(".awesomplete > ul:visible > *", has_text="Expected Close Date").first.click()
	page.wait_for_function("() => cur_frm.doc.conditions[0].fieldname === 'expected_close_date'")


@pytest.mark.browser
@pytest.mark.slow
def test_the_alert_rules_document_type_offers_the_apps_records_only(manager_desk):
	page = manager_desk
	page.goto("/app/alert-rule/new")
	page.wait_for_function("() => window.cur_frm && cur_frm.doctype === 'Alert Rule'")
	field = page.locator(".form-layout input[data-fieldname='document_type']")
	offered = _suggestions(page, field)
	records = [text for text in offered if not text.startswith(("Create a new", "Advanced Search"))]
	assert sorted(records) == sorted(allowed_doctypes())
	assert {"Opportunity", "Lead", "Organization", "Quote", "Sales Order", "Project"} <= set(records)
	assert not [text for text in offered if "Filters applied" in text], offered


@pytest.mark.browser
@pytest.mark.slow
def test_a_link_the_app_filters_has_no_raw_filters_line(manager_desk):
	page = manager_desk
	page.goto("/app/opportunity/new")
	page.wait_for_function("() => window.cur_frm && cur_frm.doctype === 'Opportunity'")
	offered = _suggestions(page, page.locator(".form-layout input[data-fieldname='sales_stage']"))
	assert "Prospecting" in " ".join(offered)
	assert not [text for text in offered if "Filters applied" in text], offered


@pytest.mark.browser
@pytest.mark.slow
def test_the_project_mapping_grid_reads_field_labels(manager_desk):
	page = manager_desk
	page.goto("/app/project-mapping")
	page.wait_for_function(
		"""() => {
			const df = window.cur_frm && cur_frm.fields_dict.mappings.grid.get_docfield("project_field");
			return df && (df.options || []).some((o) => o.value === "budget");
		}"""
	)
	page.wait_for_function("() => !frappe.request.ajax_count")
	rows = frappe.get_single("Project Mapping").mappings
	grid = page.locator(".frappe-control[data-fieldname='mappings'] .grid-body")
	for row in rows:
		cells = grid.locator(f".grid-row[data-idx='{row.idx}']")
		opportunity_cell = cells.locator("[data-fieldname='opportunity_field']").first.inner_text().strip()
		project_cell = cells.locator("[data-fieldname='project_field']").first.inner_text().strip()
		expected = (
			frappe.get_meta("Opportunity").get_label(row.opportunity_field),
			frappe.get_meta("Project").get_label(row.project_field),
		)
		assert (opportunity_cell, project_cell) == expected
	cells = grid.locator(".grid-row[data-idx='1']")
	assert (
		cells.locator("[data-fieldname='opportunity_field']").first.inner_text().strip() == "Opportunity Name"
	)
