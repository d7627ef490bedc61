"""The importer matches names (duplicates, links, organizations) in Python the way MariaDB compares them,
so that a name the database calls equal is never created twice nor reported missing."""

import frappe
import pytest

from opportunity_suite.services.importing.values import match_key

PAIRS = [
	("Café Müller", "cafe muller"),
	("Café", "Cafe   "),
	("ÅNGSTRÖM AB", "angstrom ab"),
	("Straße", "STRASSE"),
	("Acme", " Acme"),  # a leading space counts
	("Acme", "Acme."),
	("Zoë", "Zoe"),
	("Łódź", "Lodz"),  # Ł is a letter of its own for both
]


@pytest.mark.parametrize("a,b", PAIRS)
def test_match_key_agrees_with_the_database_collation(a, b):
	(equal_in_db,) = frappe.db.sql(
		"SELECT CAST(%s AS CHAR CHARACTER SET utf8mb4) COLLATE utf8mb4_unicode_ci = "
		"CAST(%s AS CHAR CHARACTER SET utf8mb4) COLLATE utf8mb4_unicode_ci",
		(a, b),
	)[0]
	assert (match_key(a) == match_key(b)) == bool(equal_in_db)


# ---------------------------------------------------------------- numbers, currencies, text: as a save
# ruff: noqa: E402, F811 (imports for the tests below; the cleanup fixture is imported, then used)

import csv
import io

from opportunity_suite.services.importing import values
from tests.factories import unique
from tests.import_fixtures import (
	assert_accounted,
	cleanup,  # noqa: F401 (fixture)
	csv_bytes,
	made_by_name,
	new_import,
	prepare,
	run,
)

NNBSP, NBSP = "\u202f", "\u00a0"


@pytest.mark.parametrize(
	"cell,number_format,expected",
	[
		("10 000", "1,234.56", 10000),
		(f"10{NBSP}000", "1,234.56", 10000),
		(f"1{NNBSP}234.56", "1,234.56", values.Decimal("1234.56")),
		("1 234,56", "1.234,56", values.Decimal("1234.56")),
		(f"1{NBSP}234{NBSP}567,5", "1.234,56", values.Decimal("1234567.5")),
		(f"1{NNBSP}234,56", "1 234,56", values.Decimal("1234.56")),
		("1 234.5", "1'234.56", values.Decimal("1234.5")),
	],
)
def test_digits_grouped_by_spaces_in_either_number_format(cell, number_format, expected):
	assert values.parse_number(cell, number_format) == expected


def test_a_number_uses_one_group_separator():
	with pytest.raises(values.CellError):
		values.parse_number("1,234 567", "1,234.56")


def test_amounts_are_not_percentages_nor_negative():
	with pytest.raises(values.CellError, match="percentage"):
		values.to_currency("15%", "1,234.56")
	with pytest.raises(values.CellError, match="negative"):
		values.to_currency("-1,200", "1,234.56")
	with pytest.raises(values.CellError, match="negative"):
		values.to_currency("(1,200)", "1,234.56")
	assert values.to_percent("15%", "1,234.56") == 15


def _reasons(doc) -> dict[str, str]:
	file = frappe.get_doc("File", {"file_url": doc.failed_rows_file})
	content = file.get_content()
	rows = list(csv.reader(io.StringIO(content.decode() if isinstance(content, bytes) else content)))
	return {row[0]: row[-1] for row in rows[1:]}


def test_amount_rows_a_save_would_misread_are_refused_with_their_reason(cleanup):
	tag = unique("Amt")
	header = ["Opportunity Name", "Amount", "Currency", "Sales Stage", "Expected Close Date"]
	rows = [
		header,
		[f"{tag} euro on usd", "€1,500", "USD", "Prospecting", "2026-12-31"],
		[f"{tag} code on usd", "EUR 1,500", "USD", "Prospecting", "2026-12-31"],
		[f"{tag} pct", "15%", "USD", "Prospecting", "2026-12-31"],
		[f"{tag} negative", "-200", "USD", "Prospecting", "2026-12-31"],
		[f"{tag} dollar", "$1,500", "USD", "Prospecting", "2026-12-31"],
		[f"{tag} spaced", "10 000", "USD", "Prospecting", "2026-12-31"],
		[f"{tag} euro on eur", f"1{NNBSP}500 €", "EUR", "Prospecting", "2026-12-31"],
	]
	for currency in ("USD", "EUR"):
		if not frappe.db.get_value("Currency", currency, "enabled"):
			frappe.db.set_value("Currency", currency, "enabled", 1)
	frappe.db.commit()
	doc = new_import(cleanup, csv_bytes(rows), defaults='{"exchange_rate": 1}')
	prepare(doc)
	run(doc)
	assert (doc.created_count, doc.failed_count) == (3, 4), doc.error
	assert_accounted(doc)
	reasons = _reasons(doc)
	assert "€1,500 is written in € but the row's currency is USD" in reasons[f"{tag} euro on usd"]
	assert "EUR" in reasons[f"{tag} code on usd"]
	assert "percentage" in reasons[f"{tag} pct"]
	assert "negative" in reasons[f"{tag} negative"]
	made = made_by_name(doc, "amount")
	assert made[f"{tag} dollar"].amount == 1500
	assert made[f"{tag} spaced"].amount == 10000
	assert made[f"{tag} euro on eur"].amount == 1500


def test_a_sign_against_the_default_currency_is_refused(cleanup):
	from opportunity_suite.services.forecast import amount_rules

	default = amount_rules().default_currency
	other = "€" if default != "EUR" else "£"
	tag = unique("Amt default")
	rows = [
		["Opportunity Name", "Amount", "Sales Stage", "Expected Close Date"],
		[f"{tag} x", f"{other}99", "Prospecting", "2026-12-31"],
	]
	doc = new_import(cleanup, csv_bytes(rows))
	prepare(doc)
	run(doc)
	assert (doc.created_count, doc.failed_count) == (0, 1)
	assert default in _reasons(doc)[f"{tag} x"]


def test_probability_zero_is_a_value_and_an_empty_cell_is_not(cleanup):
	tag = unique("Prob")
	rows = [
		["Opportunity Name", "Probability", "Sales Stage", "Expected Close Date"],
		[f"{tag} zero", "0", "Negotiation/Review", "2026-12-31"],
		[f"{tag} empty", "", "Negotiation/Review", "2026-12-31"],
		[f"{tag} pct zero", "0%", "Qualification", "2026-12-31"],
	]
	doc = new_import(cleanup, csv_bytes(rows))
	prepare(doc)
	run(doc)
	made = made_by_name(doc, "probability", "probability_is_manual", "forecast_amount")
	assert (made[f"{tag} zero"].probability, made[f"{tag} zero"].probability_is_manual) == (0, 1)
	assert (made[f"{tag} empty"].probability, made[f"{tag} empty"].probability_is_manual) == (80, 0)
	assert made[f"{tag} pct zero"].probability == 0
	# and the record keeps its 0 when saved in the desk afterwards
	saved = frappe.get_doc("Opportunity", {"opportunity_name": f"{tag} zero"})
	saved.sales_stage = "Proposal/Price Quote"  # another open stage (a Won one would make it 100)
	saved.save()
	assert saved.probability == 0
	frappe.db.rollback()

	absent = new_import(
		cleanup,
		csv_bytes(
			[
				["Opportunity Name", "Sales Stage", "Expected Close Date"],
				[f"{tag} absent", "Qualification", "2026-12-31"],
			]
		),
	)
	prepare(absent)
	run(absent)
	assert made_by_name(absent, "probability")[f"{tag} absent"].probability == 20


def test_text_is_stored_as_a_rest_save_stores_it(cleanup):
	tag = unique("Txt")
	name_140 = (tag + " " + "n" * 140)[:140]
	rows = [
		["Opportunity Name", "Next Step", "Sales Stage", "Expected Close Date", "Description"],
		[name_140, "\t=SUM(A1)", "Prospecting", "2026-12-31", "  indented\nline  "],
		[f"{tag} cr", "\r=1+1 ", "Prospecting", "2026-12-31", "<p>ok</p><script>alert(1)</script>"],
		[f"{tag} spaces  ", "'=HYPERLINK()", "Prospecting", "2026-12-31", ""],
		[name_140 + "x", "", "Prospecting", "2026-12-31", ""],
	]
	doc = new_import(cleanup, csv_bytes(rows))
	prepare(doc)
	run(doc)
	assert (doc.created_count, doc.failed_count) == (3, 1)
	made = made_by_name(doc, "next_step", "description")
	assert len(name_140) == 140 and made[name_140].next_step == "\t=SUM(A1)"
	assert made[name_140].description == "  indented\nline  "
	assert made[f"{tag} cr"].next_step == "\r=1+1 "
	assert "<script>" not in made[f"{tag} cr"].description and "ok" in made[f"{tag} cr"].description
	assert made[f"{tag} spaces  "].next_step == "=HYPERLINK()"  # our export's prefix undone
	assert "longer than 140" in _reasons(doc)[name_140 + "x"]

	# the same values saved over REST (the document API a REST insert runs) store the same
	for row in rows[1:3]:
		doc_rest = frappe.get_doc(
			{
				"doctype": "Opportunity",
				"opportunity_name": row[0] + "rest"[: max(0, 140 - len(row[0]))],
				"next_step": row[1],
				"sales_stage": row[2],
				"expected_close_date": row[3],
				"description": row[4],
			}
		).insert()
		imported = made[row[0]]
		assert (doc_rest.next_step, doc_rest.description) == (imported.next_step, imported.description)
	frappe.db.rollback()
