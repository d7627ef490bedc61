"""Formulas that used to slip past the export's neutralisation: a value starting with a control character
or wrapped in HTML got no `'`, and Frappe's make_xlsx then dropped the character or the tags, writing a
live formula. The XLSX files are read back with openpyxl: no cell is a formula, and every cell that reads
as one starts with `'`."""

import io
import json

import frappe
import openpyxl
import pytest

from opportunity_suite.services.exporting import (
	looks_like_formula,
	neutralise_cell,
	neutralise_xlsx_cell,
	strip_neutralisation,
)
from tests.factories import make_opportunity
from tests.test_exporting import call

# field → (stored value, what the cell must read)
HOSTILE = {
	"campaign": ("\x01=1+1", "'=1+1"),
	"next_step": ("<p>=2+2</p>", "'=2+2"),
	"lost_reason": ("<span>@SUM(A1:A2)</span>", "'@SUM(A1:A2)"),
	"description": ("<p>&lt;p&gt;-3+3&lt;/p&gt;</p>", "'-3+3"),
}


def xlsx_cells(response) -> list:
	workbook = openpyxl.load_workbook(io.BytesIO(response["filecontent"]))
	return [cell for row in workbook.worksheets[0].iter_rows() for cell in row]


def assert_no_live_formula(cells):
	formulas = [cell.value for cell in cells if cell.data_type == "f"]
	assert not formulas, f"live formulas in the export: {formulas}"
	unguarded = [cell.value for cell in cells if looks_like_formula(cell.value)]
	assert not unguarded, f"cells that read as formulas: {unguarded}"


@pytest.fixture
def hostile_opportunity():
	tag = frappe.generate_hash(length=8)
	doc = make_opportunity(opportunity_name=f"Bypass {tag}", **{f: v for f, (v, _cell) in HOSTILE.items()})
	doc.tag = tag
	return doc


def test_the_cell_rules():
	for text in ("\x01=1+1", " =1+1", "\x00\x1f@A1", "\n-1+1"):
		assert neutralise_cell(text) == "'" + text
		assert strip_neutralisation(neutralise_cell(text)) == text
	for value in ("plain", " -5", "\x01 +1.5", "'=1", 3, None):
		assert neutralise_cell(value) == value


def test_the_xlsx_cell_is_neutralised_as_make_xlsx_will_write_it():
	sheet = "Opportunity"
	assert neutralise_xlsx_cell("\x01=1+1", sheet) == "'=1+1"
	# html2text leaves trailing spaces: what Frappe writes anyway
	assert neutralise_xlsx_cell("<p>=1+1</p>", sheet).rstrip() == "'=1+1"
	assert neutralise_xlsx_cell("<p>Acme</p>", sheet).rstrip() == "Acme"
	# HTML inside HTML: each turn of make_xlsx's cleaning would take a layer off
	nested = "<p>&lt;p&gt;&amp;lt;b&amp;gt;=1+1&amp;lt;/b&amp;gt;&lt;/p&gt;</p>"
	written = neutralise_xlsx_cell(nested, sheet)
	assert not looks_like_formula(written)
	from frappe.utils.xlsxutils import make_xlsx

	cells = [
		c
		for row in openpyxl.load_workbook(make_xlsx([[written]], sheet)).worksheets[0].iter_rows()
		for c in row
	]
	assert cells[0].value == written  # make_xlsx (not neutralising here) writes it unchanged
	# the Data Import Template keeps HTML, but drops control characters
	assert neutralise_xlsx_cell("<p>=1+1</p>", "Data Import Template") == "<p>=1+1</p>"
	assert neutralise_xlsx_cell("\x01=1+1", "Data Import Template") == "'=1+1"


def test_report_view_xlsx(hostile_opportunity):
	fields = ["name", "opportunity_name", *HOSTILE]
	response = call(
		"frappe.desk.reportview.export_query",
		doctype="Opportunity",
		fields=json.dumps([f"`tabOpportunity`.`{f}`" for f in fields]),
		filters=json.dumps([["Opportunity", "name", "=", hostile_opportunity.name]]),
		file_format_type="Excel",
		title="Opportunity",
	)
	cells = xlsx_cells(response)
	assert_no_live_formula(cells)
	values = [c.value.rstrip() for c in cells if isinstance(c.value, str)]
	for _field, (_stored, expected) in HOSTILE.items():
		assert expected in values, repr(values)


def test_data_import_template_xlsx(hostile_opportunity):
	response = call(
		"frappe.core.doctype.data_import.data_import.download_template",
		doctype="Opportunity",
		export_fields=json.dumps({"Opportunity": ["name", "opportunity_name", *HOSTILE]}),
		export_records="by_filter",
		export_filters=json.dumps({"name": hostile_opportunity.name}),
		file_type="Excel",
	)
	cells = xlsx_cells(response)
	assert_no_live_formula(cells)
	assert "'=1+1" in [c.value for c in cells]  # the control character went, the `'` stayed


def test_data_export_xlsx(hostile_opportunity):
	response = call(
		"frappe.core.doctype.data_export.exporter.export_data",
		doctype="Opportunity",
		select_columns=json.dumps({"Opportunity": ["name", *HOSTILE]}),
		filters=json.dumps({"name": hostile_opportunity.name}),
		with_data="1",
		all_doctypes="false",
		file_type="Excel",
	)
	assert_no_live_formula(xlsx_cells(response))
