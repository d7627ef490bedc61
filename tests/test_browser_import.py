"""In a real browser, as a person imports a purchased list: a new Opportunity Import, a CSV attached from
"My Device", the columns detected and mapped, the run started on a real worker, the form's progress bar
(rows done of the total, pushed through socketio after each committed batch) moving to Completed, and
the counts read on the form."""

import csv

import frappe
import pytest
from frappe.utils import add_days, today

from tests.browser_helpers import screenshot
from tests.factories import unique
from tests.import_fixtures import IMPORT, cleanup  # noqa: F401 (a fixture)

pytestmark = pytest.mark.browser

ROWS = 6_000  # the runner commits 2,500 rows a batch: the bar stops twice on its way to 100 %


@pytest.fixture
def purchased_list(cleanup, tmp_path):  # noqa: F811
	"""A CSV of ROWS opportunities on disk, as a person has it; whatever the test's import committed
	(opportunities, the import, its file) is deleted afterwards, even when the test stopped half-way."""
	tag = unique("Imported deal").replace(" ", "-")
	path = tmp_path / f"{tag}.csv"
	close = add_days(today(), 30)
	with open(path, "w", newline="", encoding="utf-8") as f:
		writer = csv.writer(f)
		writer.writerow(["Opportunity Name", "Amount", "Sales Stage", "Expected Close Date"])
		for i in range(ROWS):
			writer.writerow([f"{tag} {i:05d}", str(100 + i), "Qualification", close])
	yield tag, path
	frappe.db.rollback()
	cleanup["imports"].extend(frappe.get_all(IMPORT, {"import_file": ("like", f"%{tag}%")}, pluck="name"))
	for file in frappe.get_all("File", {"file_name": ("like", f"{tag}%")}, pluck="name"):
		frappe.delete_doc("File", file, force=True, ignore_permissions=True)  # uploaded, never saved on it
	cleanup["Opportunity"].extend(
		frappe.get_all("Opportunity", {"opportunity_name": ("like", f"{tag}%")}, pluck="name")
	)


def test_run_an_import_and_watch_its_progress_bar(desk, worker, purchased_list):
	from frappe.utils.background_jobs import get_queue

	get_queue("long").empty()  # jobs earlier tests left queued would run first on this one worker
	tag, path = purchased_list

	# a new import, the file attached from the computer: attaching saves it
	desk.goto("/app/opportunity-import/new")
	desk.locator(".frappe-control[data-fieldname='import_file'] button.btn-attach").click()
	uploader = desk.locator(".modal.show .modal-dialog")
	with desk.expect_file_chooser() as chooser:
		uploader.locator("button.btn-file-upload", has_text="My Device").click()
	chooser.value.set_files(str(path))
	uploader.locator(".btn-primary", has_text="Upload").click()
	desk.wait_for_url("**/app/opportunity-import/OPPIMP-*")
	name = desk.evaluate("cur_frm.doc.name")

	# the columns, matched by their labels
	desk.locator(".page-actions button", has_text="Detect and Map Columns").click()
	columns = desk.locator(".frappe-control[data-fieldname='columns'] .grid-body .grid-row")
	columns.nth(3).wait_for()
	mapped = [
		(
			row.locator("[data-fieldname='header'] .static-area").inner_text().strip(),
			row.locator("[data-fieldname='fieldname'] .static-area").inner_text().strip(),
		)
		for row in columns.all()
	]
	# the map shows the Opportunity's fields by their labels (it stores their fieldnames)
	assert mapped == [
		("Opportunity Name", "Opportunity Name"),
		("Amount", "Amount"),
		("Sales Stage", "Sales Stage"),
		("Expected Close Date", "Expected Close Date"),
	]
	screenshot(desk, "import_columns_mapped")

	# start it and watch the form's bar: what it shows each time the run reports a committed batch
	desk.wait_for_function("frappe.realtime.socket && frappe.realtime.socket.connected")
	desk.evaluate(
		"""() => {
			window.__bar = [];
			frappe.realtime.on("opportunity_import_progress", () => {
				const bar = $(".form-dashboard .progress-area .progress-bar:visible");
				window.__bar.push({
					width: bar.length ? bar[0].style.width : null,
					message: $(".form-dashboard .progress-area .progress-message:visible").text(),
				});
			});
		}"""
	)
	desk.locator(".page-actions button", has_text="Start Import").click()
	desk.locator(".page-head .indicator-pill", has_text="Completed").wait_for(timeout=120_000)
	seen = desk.evaluate("window.__bar")
	widths = [float(s["width"].rstrip("%")) for s in seen if s["width"]]
	assert widths == sorted(widths) and widths[-1] == 100, seen
	assert any(0 < w < 100 for w in widths), seen  # it moved on the way, not only at the end
	messages = [s["message"] for s in seen]
	assert "2,500 of 6,000 rows: 2,500 created, 0 updated, 0 skipped, 0 failed" in messages, seen
	assert messages[-1] == "6,000 of 6,000 rows: 6,000 created, 0 updated, 0 skipped, 0 failed", seen

	# the result as the form shows it after the run
	def shown(fieldname: str) -> str:
		value = desk.locator(f".frappe-control[data-fieldname='{fieldname}'] .control-value").first
		return value.inner_text().strip().replace(",", "")

	assert [shown(f) for f in ("total_rows", "rows_read", "created_count", "failed_count")] == [
		"6000",
		"6000",
		"6000",
		"0",
	]
	assert "6,000 of 6,000 rows" in desk.locator(".form-dashboard .progress-message").inner_text()
	screenshot(desk, "import_completed")

	frappe.db.rollback()
	assert frappe.db.get_value(IMPORT, name, "status") == "Completed"
	assert frappe.db.count("Opportunity", {"opportunity_name": ("like", f"{tag}%")}) == ROWS
	last = frappe.get_doc("Opportunity", {"opportunity_name": f"{tag} {ROWS - 1:05d}"})
	assert (last.amount, last.sales_stage, last.probability, last.forecast_amount) == (
		100 + ROWS - 1,
		"Qualification",
		20,
		(100 + ROWS - 1) * 20 / 100,
	)
