# ruff: noqa: F811 (the cleanup fixture is imported, then used as an argument)
"""The import preview marks each cell a warning or an error is about: the payload's `cells` (fieldname →
message) for a cell that doesn't parse, a link that isn't found, a vCard value its contact loses; the
row's message keeps every reason. A failed row shows the file's own cells, so the marked one is there."""

import frappe

from opportunity_suite.api import importing as api
from tests.factories import make_user, unique
from tests.import_fixtures import cleanup, csv_bytes, new_import, prepare  # noqa: F401 (fixture)

HEADER = ["Opportunity Name", "Amount", "Sales Stage", "Expected Close Date"]
HOSTILE = "<img src=x onerror=alert(1)>"


def preview_by_row(doc) -> dict[int, dict]:
	return {r["row_no"]: r for r in api.preview_import(doc.name)["rows"]}


def csv_import(cleanup, tag: str):
	rows = [
		HEADER,
		[f"{tag} fine", "1,500.00", "Prospecting", "2026-12-31"],
		[f"{tag} two bad cells", "lots", "Prospecting", "2026-02-30"],  # 3: amount and date don't parse
		[f"{tag} no stage", "10", f"{tag} Stage", "2026-12-31"],  # 4: a stage that doesn't exist
		[f"{tag} hostile", HOSTILE, "Prospecting", "2026-12-31"],  # 5: HTML in the cell's message
	]
	doc = new_import(cleanup, csv_bytes(rows))
	prepare(doc)
	frappe.db.commit()
	return doc


def test_the_preview_marks_each_cell_that_does_not_parse_or_link(cleanup):
	tag = unique("Cells")
	user = make_user("Sales Manager")
	cleanup["User"].append(user)
	doc = csv_import(cleanup, tag)
	frappe.set_user(user)
	try:
		rows = preview_by_row(doc)
	finally:
		frappe.set_user("Administrator")
	assert rows[2]["status"] == "created" and rows[2]["cells"] == {}
	bad = rows[3]
	assert bad["status"] == "failed" and set(bad["cells"]) == {"amount", "expected_close_date"}, bad
	assert bad["cells"]["amount"].startswith("Amount:") and "lots" in bad["cells"]["amount"]
	assert bad["cells"]["expected_close_date"].startswith("Expected Close Date:")
	assert bad["values"]["amount"] == "lots"  # the file's cell, there to be marked
	assert bad["cells"]["amount"] in bad["message"] and bad["cells"]["expected_close_date"] in bad["message"]
	stage = rows[4]
	assert stage["status"] == "failed" and list(stage["cells"]) == ["sales_stage"], stage
	assert f"{tag} Stage" in stage["cells"]["sales_stage"]
	hostile = rows[5]
	assert list(hostile["cells"]) == ["amount"] and hostile["values"]["amount"] == HOSTILE


def test_the_preview_marks_the_contact_cell_of_a_card_value_the_contact_loses(cleanup):
	tag = frappe.generate_hash(length=8)
	content = (
		"BEGIN:VCARD\r\nVERSION:3.0\r\nN:Moreau;Lea;;;\r\nFN:Lea Moreau\r\n"
		f"EMAIL:lea.{tag}@example.com\r\nTEL;TYPE=WORK:+1-418-656-9254;ext=102\r\n"
		f"EMAIL:not an address {tag}\r\nEND:VCARD\r\n"
		"BEGIN:VCARD\r\nVERSION:3.0\r\nN:Petit;Jo;;;\r\nFN:Jo Petit\r\n"
		f"EMAIL:jo.{tag}@example.com\r\nEND:VCARD\r\n"
	).encode()
	doc = new_import(cleanup, content, "vcf")
	prepare(doc)
	frappe.db.commit()
	rows = preview_by_row(doc)
	lea, jo = rows[2], rows[3]
	assert lea["status"] == "created" and list(lea["cells"]) == ["contact"], lea
	assert "+1-418-656-9254;ext=102" in lea["cells"]["contact"]
	assert f"not an address {tag}" in lea["cells"]["contact"]
	assert lea["cells"]["contact"] in lea["message"]
	assert jo["status"] == "created" and jo["cells"] == {}
