# ruff: noqa: F811 (the cleanup fixture is imported, then used as an argument)
"""In a real browser, the import preview's marks: a cell an error is about carries a visible ⚠ and the
message as its tooltip, and a cell's HTML (from the file, in the message too) is shown as text."""

import frappe
import pytest

from tests.factories import unique
from tests.import_fixtures import cleanup  # noqa: F401 (fixture)
from tests.test_import_preview_cells import HOSTILE, csv_import

pytestmark = pytest.mark.browser


def test_the_preview_marks_the_cells_its_errors_are_about(desk, cleanup):
	doc = csv_import(cleanup, unique("BrCells"))
	desk.goto(f"/app/opportunity-import/{doc.name}")
	desk.wait_for_function("() => cur_frm && cur_frm.doc.name && !cur_frm.is_dirty()")
	desk.locator(".page-actions button", has_text="Preview").first.click()
	table = desk.locator(".frappe-control[data-fieldname='preview_html'] table.opportunity-import-preview")
	table.wait_for()
	fine, bad, _stage, hostile = (table.locator(f"tbody tr[data-row-no='{n}']") for n in (2, 3, 4, 5))
	assert fine.locator(".preview-cell-mark").count() == 0
	marked = bad.locator("td.preview-cell-note")
	assert [c.get_attribute("data-fieldname") for c in marked.all()] == ["amount", "expected_close_date"]
	amount = bad.locator("td[data-fieldname='amount']")
	assert amount.locator(".preview-cell-mark").is_visible()
	assert amount.get_attribute("title").startswith("Amount:") and "lots" in amount.inner_text()
	cell = hostile.locator("td[data-fieldname='amount']")
	assert HOSTILE in cell.inner_text() and HOSTILE in (cell.get_attribute("title") or "")
	assert table.locator("img").count() == 0  # the file's HTML is text, in the cell and its tooltip
	frappe.db.rollback()
