# ruff: noqa: F811 (the cleanup fixture is imported, then used as an argument)
"""The import's file formats: a registry keyed by file kind (formats/: CSV, XLSX, VCF, one class each)
that picks each format by its file's extension and refuses any other with a clear, translated message;
and an XLSX file saved by LibreOffice Calc itself, imported with its formats (grouping, percentage,
date) read as the values they show."""

from pathlib import Path

import frappe
import pytest

from opportunity_suite.services.importing import formats
from opportunity_suite.services.importing.formats import ImportFileError
from opportunity_suite.services.importing.formats.csv_format import CSVFormat
from opportunity_suite.services.importing.formats.vcf_format import VCFFormat
from opportunity_suite.services.importing.formats.xlsx_format import XLSXFormat
from tests.factories import make_user, unique
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

DATA = Path(__file__).parent / "data"
HEADER = ["Opportunity Name", "Sales Stage", "Expected Close Date"]


@pytest.mark.parametrize(
	"file_name,format_class",
	[
		("deals.csv", CSVFormat),
		("DEALS.CSV", CSVFormat),
		("deals.txt", CSVFormat),
		("deals.tsv", CSVFormat),
		("/private/files/deals.2026.xlsx", XLSXFormat),
		("contacts.vcf", VCFFormat),
		("contacts.VCARD", VCFFormat),
	],
)
def test_the_registry_picks_each_format_by_its_extension(file_name, format_class):
	assert formats.format_for(file_name) is format_class
	assert formats.file_kind(file_name) == format_class.kind
	assert formats.format_of_kind(format_class.kind) is format_class


def test_every_format_of_the_package_is_registered_once():
	assert formats.FORMATS == {"CSV": CSVFormat, "VCF": VCFFormat, "XLSX": XLSXFormat}
	extensions = [e for cls in formats.FORMATS.values() for e in cls.extensions]
	assert len(extensions) == len(set(extensions))  # one format per extension
	# the import's File Kind offers every registered kind
	options = frappe.get_meta("Opportunity Import").get_field("file_kind").options.split("\n")
	assert set(formats.FORMATS) <= set(options)


def test_each_kind_of_file_is_read_by_its_format(cleanup):
	tag = unique("Fmt")
	row = [f"{tag} one", "Prospecting", "2026-12-31"]
	vcf = f"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:{tag} Card\r\nN:Card;{tag};;;\r\nEND:VCARD\r\n".encode()
	files = {
		"csv": csv_bytes([HEADER, row]),
		"xlsx": xlsx_bytes({"Deals": [HEADER, row]}),
		"vcf": vcf,
	}
	for extension, content in files.items():
		doc = new_import(cleanup, content, extension)
		shown = prepare(doc)
		file = formats.open_file(doc.import_file, doc.file_kind, doc.encoding, doc.delimiter)
		assert type(file) is formats.format_for(f"x.{extension}"), extension
		assert shown["kind"] == doc.file_kind == type(file).kind
		if file.has_column_map:
			assert shown["headers"] == HEADER and [c.fieldname for c in doc.columns] == [
				"opportunity_name",
				"sales_stage",
				"expected_close_date",
			]
		else:
			assert not doc.columns and file.count_rows() == 1


def test_an_unknown_extension_is_refused_with_a_clear_translated_message(cleanup):
	source = "Unsupported file type .{0}: use a file ending in one of {1}."
	translation = frappe.get_doc(
		{
			"doctype": "Translation",
			"language": "de",
			"source_text": source,
			"translated_text": "Nicht unterstützter Dateityp .{0}: nehmen Sie eine Datei mit der Endung {1}.",
		}
	).insert()
	lang = frappe.local.lang
	try:
		with pytest.raises(ImportFileError) as refused:
			new_import(cleanup, b"%PDF-1.4\n", "pdf")
		assert str(refused.value) == (
			"Unsupported file type .pdf: use a file ending in one of .csv, .txt, .tsv, .vcf, .vcard, .xlsx."
		)
		frappe.local.lang = "de"
		with pytest.raises(ImportFileError, match=r"^Nicht unterstützter Dateityp \.pdf: .*\.csv, \.txt"):
			formats.format_for("angebot.pdf")
		with pytest.raises(ImportFileError, match="has no extension"):
			formats.format_for("deals")
	finally:
		frappe.local.lang = lang
		frappe.db.rollback()
		frappe.clear_messages()
		translation.clear_cache()


def test_a_workbook_saved_by_libreoffice_calc_imports_the_values_it_shows(cleanup):
	"""tests/data/xlsx/libreoffice-calc-7.4.xlsx (its README says how it was made): an amount with
	grouping, a percentage-formatted probability (25 %, 0 %, 150 %) and a date, imported by a Sales
	Manager with Create Missing Organizations."""
	user = make_user("Sales Manager")
	cleanup["User"].append(user)
	frappe.db.commit()
	frappe.set_user(user)
	try:
		content = (DATA / "xlsx" / "libreoffice-calc-7.4.xlsx").read_bytes()
		doc = new_import(cleanup, content, "xlsx", create_missing_organizations=1)
		prepare(doc)
		assert [c.fieldname for c in doc.columns] == [
			"opportunity_name",
			"organization",
			"amount",
			"probability",
			"expected_close_date",
			"sales_stage",
		]
		run(doc)
	finally:
		frappe.set_user("Administrator")
	assert (doc.status, doc.created_count, doc.failed_count) == ("Completed with Errors", 2, 1), doc.error
	assert_accounted(doc)
	made = made_by_name(
		doc, "amount", "probability", "probability_is_manual", "expected_close_date", "organization"
	)
	alpha, beta = made["Lofix Alpha"], made["Lofix Beta"]
	assert (alpha.amount, alpha.probability, str(alpha.expected_close_date)) == (1234567.5, 25, "2026-12-31")
	assert (beta.amount, beta.probability, str(beta.expected_close_date)) == (12500, 0, "2027-01-15")
	assert beta.probability_is_manual  # a 0 % in the file is a value, not the stage's default
	assert frappe.db.get_value("Organization", alpha.organization, "organization_name") == "Lofix Org One"
	assert "Lofix Gamma" not in made  # 150 %: out of range, that row alone fails
