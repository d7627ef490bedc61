# ruff: noqa: F811 (the cleanup fixture is imported, then used as an argument)
"""Damaged and hostile files: a stray byte in a UTF-8 file, a UTF-8 file read as Windows-1252, rows
shorter or longer than the header, a trailing empty header, a quote that never closes, XLSX
percentages, empty and header-only files. Each is refused before anything is written, or costs only
its own row, with a reason naming the line or the row."""

import csv
import io

import frappe
import pytest

from opportunity_suite.services.importing.readers import ImportFileError
from tests.factories import unique
from tests.import_fixtures import (
	assert_accounted,
	cleanup,  # noqa: F401 (fixture)
	csv_bytes,
	made_by_name,
	new_import,
	prepare,
	run,
	xlsx_bytes,
)

HEADER = ["Opportunity Name", "Amount", "Sales Stage", "Expected Close Date"]


def _reasons(doc) -> dict[str, str]:
	file = frappe.get_doc("File", {"file_url": doc.failed_rows_file})
	content = file.get_content()
	rows = list(csv.reader(io.StringIO(content.decode() if isinstance(content, bytes) else content)))
	return {row[0]: row[-1] for row in rows[1:]}


def _count(tag) -> int:
	return frappe.db.count("Opportunity", {"opportunity_name": ("like", f"{tag}%")})


# ---------------------------------------------------------------- encodings


def test_a_stray_byte_in_a_utf8_file_never_switches_it_to_cp1252(cleanup):
	tag = unique("Enc utf8")
	good = csv_bytes([HEADER] + [[f"{tag} Zürich {i}", "1", "Prospecting", "2026-12-31"] for i in range(5)])
	content = good + f"{tag} Gen".encode() + b"\xe8ve,1,Prospecting,2026-12-31\r\n"  # one cp1252 byte
	doc = new_import(cleanup, content)  # no encoding chosen: detected
	with pytest.raises(ImportFileError, match="line 7") as error:
		prepare(doc)
	assert "UTF-8" in str(error.value) and "cp1252" not in str(error.value)
	assert _count(tag) == 0
	# started with UTF-8 anyway: the run stops before any write, naming the line
	doc.reload()
	doc.encoding = "utf-8"
	doc.save()
	with pytest.raises(ImportFileError, match="line 7"):
		run(doc)
	assert _count(tag) == 0


def test_a_utf8_file_read_as_cp1252_is_refused_never_stored_as_mojibake(cleanup):
	tag = unique("Enc moji")
	content = csv_bytes([HEADER, [f"{tag} Zürich", "1", "Prospecting", "2026-12-31"]])
	doc = new_import(cleanup, content, encoding="cp1252")
	with pytest.raises(ImportFileError, match="UTF-8"):
		prepare(doc)
	assert _count(tag) == 0
	doc.reload()
	doc.encoding = "utf-8"
	doc.save()
	prepare(doc)
	run(doc)
	assert set(made_by_name(doc)) == {f"{tag} Zürich"}


def test_a_replacement_character_fails_its_row(cleanup):
	tag = unique("Enc fffd")
	rows = [
		HEADER,
		[f"{tag} Z\ufffdrich", "1", "Prospecting", "2026-12-31"],
		[f"{tag} ok", "1", "Prospecting", "2026-12-31"],
	]
	doc = new_import(cleanup, csv_bytes(rows))
	prepare(doc)
	run(doc)
	assert (doc.created_count, doc.failed_count) == (1, 1)
	assert "U+FFFD" in _reasons(doc)[f"{tag} Z\ufffdrich"]


# ---------------------------------------------------------------- row shapes


def test_short_and_long_rows_are_refused_and_empty_trailing_cells_allowed(cleanup):
	tag = unique("Shape")
	lines = [
		",".join(HEADER) + ",,",  # a spreadsheet's two empty trailing headers
		f"{tag} ok,1,Prospecting,2026-12-31,,",
		f"{tag} short,1,Prospecting",
		f"{tag} long,1,Prospecting,2026-12-31,,surprise",
		f"{tag} trailing empty,1,Prospecting,2026-12-31",
		f"{tag} more empty,1,Prospecting,2026-12-31,,,,",
	]
	doc = new_import(cleanup, ("\r\n".join(lines) + "\r\n").encode())
	prepare(doc)
	assert [c.header for c in doc.columns] == HEADER  # the empty trailing headers are no columns
	run(doc)
	assert (doc.created_count, doc.failed_count) == (3, 2), doc.error
	assert_accounted(doc)
	reasons = _reasons(doc)
	assert "3 cells but the header has 4" in reasons[f"{tag} short"]
	assert "beyond the header" in reasons[f"{tag} long"]


def test_an_unclosed_quote_refuses_the_file_naming_its_line(cleanup):
	tag = unique("Quote")
	lines = [
		",".join(HEADER),
		f"{tag} a,1,Prospecting,2026-12-31",
		f'"{tag} b,1,Prospecting,2026-12-31',  # never closed: would swallow the rest
		f"{tag} c,1,Prospecting,2026-12-31",
		f"{tag} d,1,Prospecting,2026-12-31",
	]
	doc = new_import(cleanup, ("\r\n".join(lines) + "\r\n").encode())
	with pytest.raises(ImportFileError, match="line 3"):
		prepare(doc)
	assert _count(tag) == 0


def test_quoted_newlines_and_a_literal_quote_are_still_read(cleanup):
	tag = unique("Quote ok")
	lines = [
		",".join(HEADER),
		f'"{tag} multi\nline",1,Prospecting,2026-12-31',
		f'{tag} 5" screen,1,Prospecting,2026-12-31',
	]
	doc = new_import(cleanup, ("\r\n".join(lines) + "\r\n").encode())
	prepare(doc)
	run(doc)
	assert set(made_by_name(doc)) == {f"{tag} multi\nline", f'{tag} 5" screen'}


# ---------------------------------------------------------------- XLSX


def _percent_workbook(tag) -> bytes:
	import openpyxl

	workbook = openpyxl.Workbook()
	sheet = workbook.active
	sheet.append(["Opportunity Name", "Probability", "Sales Stage", "Expected Close Date", "Amount"])
	for name, probability, fmt in (("quarter", 0.25, "0%"), ("fine", 0.125, "0.00%"), ("over", 1.5, "0%")):
		sheet.append([f"{tag} {name}", probability, "Prospecting", "2026-12-31", 100])
		sheet.cell(sheet.max_row, 2).number_format = fmt
	sheet.append([f"{tag} plain", 25, "Prospecting", "2026-12-31", 100])
	sheet.append([f"{tag} pct amount", 30, "Prospecting", "2026-12-31", 0.3])
	sheet.cell(sheet.max_row, 5).number_format = "0%"
	out = io.BytesIO()
	workbook.save(out)
	return out.getvalue()


def test_xlsx_percentage_cells_are_percentages(cleanup):
	tag = unique("XlPct")
	doc = new_import(cleanup, _percent_workbook(tag), "xlsx")
	prepare(doc)
	run(doc)
	assert (doc.created_count, doc.failed_count) == (3, 2), doc.error
	made = made_by_name(doc, "probability")
	assert made[f"{tag} quarter"].probability == 25
	assert made[f"{tag} fine"].probability == 12.5
	assert made[f"{tag} plain"].probability == 25
	reasons = _reasons(doc)
	assert "150% is not between 0 and 100" in reasons[f"{tag} over"]
	assert "percentage, not an amount" in reasons[f"{tag} pct amount"]


def test_xlsx_data_under_no_header_fails_its_row(cleanup):
	tag = unique("XlWide")
	content = xlsx_bytes(
		{
			"Deals": [
				[*HEADER, None, None],
				[f"{tag} ok", 1, "Prospecting", "2026-12-31", None, None],
				[f"{tag} extra", 1, "Prospecting", "2026-12-31", None, "where does this go?"],
			]
		}
	)
	doc = new_import(cleanup, content, "xlsx")
	prepare(doc)
	assert [c.header for c in doc.columns] == HEADER
	run(doc)
	assert (doc.created_count, doc.failed_count) == (1, 1), doc.error
	assert "beyond the header" in _reasons(doc)[f"{tag} extra"]


# ---------------------------------------------------------------- empty files


@pytest.mark.parametrize(
	"content,extension",
	[
		(b"\xef\xbb\xbf", "csv"),  # what a spreadsheet saves for an empty sheet as "CSV UTF-8"
		(b"\r\n\r\n", "csv"),
		((",".join(HEADER) + "\r\n").encode(), "csv"),
		((",".join(HEADER) + "\r\n,,,\r\n").encode(), "csv"),
		(None, "xlsx"),
	],
)
def test_a_file_without_rows_says_so(cleanup, content, extension):
	if content is None:
		content = xlsx_bytes({"Deals": [HEADER]})
	doc = new_import(cleanup, content, extension)
	with pytest.raises(ImportFileError, match="has no rows"):
		prepare(doc)


def test_frappe_refuses_a_zero_byte_upload_as_file_does_not_exist(cleanup):
	"""A 0-byte upload never reaches the import: Frappe's File keeps no content for it and then finds no
	file on disk, saying "File … does not exist". It means: the file uploaded was empty."""
	with pytest.raises((OSError, frappe.ValidationError), match="does not exist"):
		new_import(cleanup, b"")
	frappe.db.rollback()
