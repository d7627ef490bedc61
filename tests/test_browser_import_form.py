"""In a real browser, the import form as a person uses it, with the files people bring: a Vtiger 7 export
and a phone's multi-card vCard. The file attached from "My Device", a setting ticked and the columns
detected (the tick kept), the map read and chosen by labels, the defaults given in their table, the
preview of the rows as they will be stored, the run started on a real worker, and its results file read."""

import csv
import io
import pathlib

import frappe
import pytest

from tests.browser_helpers import screenshot
from tests.factories import unique
from tests.import_fixtures import IMPORT, cleanup  # noqa: F401 (a fixture)
from tests.test_import_vtiger import vtiger_people  # noqa: F401 (a fixture)

pytestmark = pytest.mark.browser

DATA = pathlib.Path(__file__).parent / "data"
VTIGER_ROWS = 5


def _files_cleanup(cleanup, tag):  # noqa: F811
	frappe.db.rollback()
	cleanup["imports"].extend(frappe.get_all(IMPORT, {"import_file": ("like", f"%{tag}%")}, pluck="name"))
	for file in frappe.get_all("File", {"file_name": ("like", f"{tag}%")}, pluck="name"):
		frappe.delete_doc("File", file, force=True, ignore_permissions=True)


@pytest.fixture
def vtiger_file(cleanup, tmp_path):  # noqa: F811
	"""The first rows of the Vtiger 7 export (tests/data/vtiger), byte for byte: header cells joined with
	`", "`, every field quoted, CRLF."""
	tag = unique("vtiger").replace(" ", "-")
	lines = (DATA / "vtiger" / "vtiger7_potentials_en_us.csv").read_bytes().split(b"\r\n")
	taken = lines[: VTIGER_ROWS + 1]
	assert all(line.count(b'"') % 2 == 0 for line in taken)  # whole records, no field spans a line
	path = tmp_path / f"{tag}.csv"
	path.write_bytes(b"\r\n".join(taken) + b"\r\n")
	yield path
	_files_cleanup(cleanup, tag)


@pytest.fixture
def vcard_file(cleanup, tmp_path):  # noqa: F811
	tag = unique("vcards").replace(" ", "-")
	path = tmp_path / f"{tag}.vcf"
	path.write_bytes((DATA / "vcards" / "ez-vcard-gmail-list.vcf").read_bytes())
	yield path
	_files_cleanup(cleanup, tag)


def _new_import(desk, path) -> str:
	desk.goto("/app/opportunity-import/new")
	desk.locator(".frappe-control[data-fieldname='import_file'] button.btn-attach").click()
	uploader = desk.locator(".modal.show .modal-dialog")
	with desk.expect_file_chooser() as chooser:
		uploader.locator("button.btn-file-upload", has_text="My Device").click()
	chooser.value.set_files(str(path))
	uploader.locator(".btn-primary", has_text="Upload").click()
	desk.wait_for_url("**/app/opportunity-import/OPPIMP-*")
	desk.wait_for_function("() => cur_frm && !cur_frm.is_new() && !cur_frm.is_dirty()")
	return desk.evaluate("cur_frm.doc.name")


def _button(desk, label: str):
	desk.locator(".page-actions button", has_text=label).first.click()


def _edit_cell(row, tag: str, fieldname: str):
	"""A cell of an editable table row as its input (a new row opens so; a row redrawn meanwhile is
	clicked again)."""
	field = row.locator(f"{tag}[data-fieldname='{fieldname}']")
	for _attempt in range(3):
		if field.is_visible():
			return field
		try:
			row.locator(f".grid-static-col[data-fieldname='{fieldname}']").click(timeout=5000)
			field.wait_for(timeout=5000)
			return field
		except Exception:
			continue
	raise AssertionError(f"the {fieldname} cell did not open")


def _until_stored(desk, give, stored: str, arg=None):
	"""`give()` a value in a table row until the form holds it (`stored`, a JS condition). The model is set
	asynchronously and the row is redrawn after it; what is given on the old row while it is replaced is lost
	(a person sees the old value still there and gives it again), so it is given again, at most 3 times."""
	for _attempt in range(3):
		give()
		try:
			desk.wait_for_function(stored, arg=arg, timeout=5000)
			return
		except Exception:
			continue
	desk.wait_for_function(stored, arg=arg)


def _choose(desk, row, header: str, label: str, fieldname: str):
	"""The column's field chosen by its label (the cell taken afresh each time), until the form holds it."""
	_until_stored(
		desk,
		lambda: _edit_cell(row, "select", "fieldname").select_option(label=label),
		"([h, f]) => cur_frm.doc.columns.find((c) => c.header === h).fieldname === f",
		[header, fieldname],
	)


def _preview(desk) -> list[dict]:
	_button(desk, "Preview")
	table = desk.locator(".frappe-control[data-fieldname='preview_html'] table.opportunity-import-preview")
	table.wait_for()
	headers = [h.strip() for h in table.locator("thead th").all_inner_texts()]
	return [
		dict(zip(headers, [c.strip() for c in row.locator("td").all_inner_texts()], strict=True))
		for row in table.locator("tbody tr").all()
	]


def _start_and_read_results(desk) -> list[dict]:
	desk.wait_for_function("frappe.realtime.socket && frappe.realtime.socket.connected")
	_button(desk, "Start Import")
	desk.locator(".page-head .indicator-pill", has_text="Completed").wait_for(timeout=120_000)
	desk.wait_for_function("() => !!cur_frm.doc.results_file")
	# the Download menu offers the results file; read it as the browser gets it
	desk.locator(".page-actions .inner-group-button button", has_text="Download").click()
	desk.locator(".page-actions .dropdown-menu:visible .dropdown-item", has_text="Results").wait_for()
	text = desk.evaluate("() => fetch(cur_frm.doc.results_file).then((r) => r.text())")
	desk.keyboard.press("Escape")
	return list(csv.DictReader(io.StringIO(text)))


def _made(results: list[dict]) -> list[str]:
	return [r["Record"] for r in results if r["Status"] == "created"]


def test_a_vtiger_export_through_the_form(desk, worker, vtiger_file, vtiger_people, cleanup):  # noqa: F811
	from frappe.utils.background_jobs import get_queue

	get_queue("long").empty()
	desk.set_viewport_size({"width": 1440, "height": 900})
	name = _new_import(desk, vtiger_file)

	# a setting ticked, then "Detect and Map Columns": the form is saved first, the tick is kept
	desk.locator("input[data-fieldname='create_missing_organizations']").check()
	_button(desk, "Detect and Map Columns")
	columns = desk.locator(".frappe-control[data-fieldname='columns'] .grid-body .grid-row")
	columns.nth(19).wait_for()
	desk.wait_for_function("() => !cur_frm.is_dirty() && cur_frm.doc.columns.length === 20")
	assert frappe.db.get_value(IMPORT, name, "create_missing_organizations") == 1

	# the map shows each column's field by its label, never a fieldname
	def mapped() -> dict[str, str]:
		return {
			row.locator("[data-fieldname='header'] .static-area").inner_text().strip(): row.locator(
				"[data-fieldname='fieldname'] .static-area"
			)
			.inner_text()
			.strip()
			for row in columns.all()
		}

	shown = mapped()
	assert shown["Opportunity Name"] == "Opportunity Name"
	assert shown["Organization Name"] == "Organization"
	assert shown["Contact Name"] == "Primary Contact"
	assert shown["Expected Close Date"] == "Expected Close Date"
	assert shown["Weighted Revenue"] == ""  # offered as ignored
	screenshot(desk, "import_form_vtiger_mapped")

	# a column's field chosen from the select, by label: it offers only importable fields, stores a fieldname
	row = columns.filter(has=desk.locator("[data-fieldname='header']", has_text="Next Step")).first
	select = _edit_cell(row, "select", "fieldname")
	offered = select.locator("option").all_inner_texts()
	assert "Expected Close Date" in offered and "Description" in offered
	assert not any(o in offered for o in ("forecast_amount", "Forecast Amount", "opportunity_name"))
	_choose(desk, row, "Next Step", "Description", "description")  # then back: the choice is by label
	_choose(desk, row, "Next Step", "Next Step", "next_step")

	# the preview: the rows as they will be stored, before anything is written
	preview = _preview(desk)
	screenshot(desk, "import_form_vtiger_preview")
	assert len(preview) == VTIGER_ROWS
	assert {r["Outcome"] for r in preview} == {"Created"}, preview
	first = preview[0]
	assert first["Row"] == "2"
	assert first["Opportunity Name"].startswith("Vtfix deal 001")
	assert float(first["Amount"]) == 16600.25
	assert first["Expected Close Date"] == "2025-02-02"
	assert first["Assigned To"] == vtiger_people["vtfix.ben"]  # the login name, resolved
	assert "Accounts::::" not in first["Organization"] and first["Organization"]
	frappe.db.rollback()
	assert not frappe.db.count("Opportunity", {"opportunity_name": ("like", "Vtfix deal 001%")})

	results = _start_and_read_results(desk)
	screenshot(desk, "import_form_vtiger_completed")
	assert [r["Row"] for r in results] == [str(n) for n in range(2, VTIGER_ROWS + 2)]
	assert {r["Status"] for r in results} == {"created"}, results
	frappe.db.rollback()
	made = _made(results)
	cleanup["Opportunity"].extend(made)
	stored = frappe.get_doc("Opportunity", made[0])
	assert (stored.amount, str(stored.expected_close_date), stored.assigned_to) == (
		16600.25,
		"2025-02-02",
		vtiger_people["vtfix.ben"],
	)
	assert frappe.db.get_value("Opportunity", made[0], "organization") == first["Organization"]


def test_a_multi_card_vcard_through_the_form(desk, worker, vcard_file, cleanup):  # noqa: F811
	from frappe.utils.background_jobs import get_queue

	get_queue("long").empty()
	desk.set_viewport_size({"width": 1440, "height": 900})
	name = _new_import(desk, vcard_file)
	_button(desk, "Detect and Map Columns")
	desk.wait_for_function(  # detected, and the form reloaded with what the server saved
		"() => cur_frm.doc.detected_encoding && !frappe.request.ajax_count && !cur_frm.is_dirty()"
	)

	# a default given in the table, the field chosen by its label
	grid = desk.locator(".frappe-control[data-fieldname='default_values']")
	row = grid.locator(".grid-body .grid-row").last
	for _attempt in range(3):  # a row added while the form still reloads is lost with the reload: again
		if not row.is_visible():
			grid.locator(".grid-add-row").click()
		desk.wait_for_timeout(1000)
		if row.is_visible():
			break
	assert row.is_visible()

	def give_default():
		_edit_cell(row, "select", "fieldname").select_option(label="Sales Stage")
		value = _edit_cell(row, "input", "value")
		value.fill("Qualification")
		value.press("Tab")

	_until_stored(
		desk,
		give_default,
		"() => (cur_frm.doc.default_values || []).some((d) => d.fieldname === 'sales_stage'"
		" && d.value === 'Qualification')",
	)

	preview = _preview(desk)  # saves the form first
	screenshot(desk, "import_form_vcard_preview")
	frappe.db.rollback()  # the form saved its table before previewing
	assert frappe.db.get_value("Opportunity Import Default", {"parent": name}, ["fieldname", "value"]) == (
		"sales_stage",
		"Qualification",
	)
	assert [r["Outcome"] for r in preview] == ["Created"] * 3, preview
	assert [r["Opportunity Name"] for r in preview] == ["Arnold Smith", "Chris Beatle", "Doug White"]
	assert {r["Sales Stage"] for r in preview} == {"Qualification"}
	assert all(r["Primary Contact"] for r in preview)  # each card's contact, as it will be linked
	frappe.db.rollback()
	assert not frappe.db.exists(
		"Contact", {"email_id": "chrisy55d@yahoo.com", "creation": (">", "2026-12-01")}
	)

	results = _start_and_read_results(desk)
	screenshot(desk, "import_form_vcard_completed")
	statuses = [(r["Row"], r["Status"]) for r in results]
	assert statuses == [("2", "created"), ("3", "created"), ("4", "created")]  # card n is row n + 1
	frappe.db.rollback()
	made = _made(results)
	cleanup["Opportunity"].extend(made)
	stored = frappe.get_all(
		"Opportunity", {"name": ("in", made)}, ["opportunity_name", "sales_stage", "contact"], order_by="name"
	)
	assert [r.sales_stage for r in stored] == ["Qualification"] * 3
	assert all(r.contact for r in stored)
