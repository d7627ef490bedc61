"""Helpers for Opportunity Import tests: files built in the test, an import run inline (the job function
itself, which commits per batch), and a cleanup that removes everything a run committed."""

import csv
import io
import json

import frappe
import pytest

from opportunity_suite.services.importing import jobs
from tests.factories import unique
from tests.records_fixtures import delete_committed

IMPORT = "Opportunity Import"


def csv_bytes(
	rows: list[list], delimiter: str = ",", encoding: str = "utf-8", line_end: str = "\r\n", bom: bool = False
) -> bytes:
	out = io.StringIO()
	# Python's writer quotes a field only for the line end it writes: quote everything for CR files
	quoting = csv.QUOTE_ALL if line_end == "\r" else csv.QUOTE_MINIMAL
	csv.writer(out, delimiter=delimiter, lineterminator=line_end, quoting=quoting).writerows(rows)
	data = out.getvalue().encode(encoding)
	return (b"\xef\xbb\xbf" + data) if bom else data


def xlsx_bytes(sheets: dict[str, list[list]]) -> bytes:
	import openpyxl

	workbook = openpyxl.Workbook()
	workbook.remove(workbook.active)
	for title, rows in sheets.items():
		sheet = workbook.create_sheet(title)
		for row in rows:
			sheet.append(row)
	out = io.BytesIO()
	workbook.save(out)
	return out.getvalue()


def make_import(content: bytes, extension: str = "csv", **settings):
	"""An Opportunity Import of a private file holding `content` (Frappe attaches the file to it)."""
	file = frappe.get_doc(
		{
			"doctype": "File",
			"file_name": f"{unique('import').replace(' ', '_')}.{extension}",
			"content": content,
			"is_private": 1,
		}
	).insert()
	return frappe.get_doc({"doctype": IMPORT, "import_file": file.file_url, **settings}).insert()


def new_import(cleanup, content: bytes, extension: str = "csv", **settings):
	"""An Opportunity Import that the `cleanup` fixture removes afterwards, with all it made."""
	doc = make_import(content, extension, **settings)
	cleanup["imports"].append(doc.name)
	return doc


def prepare(doc, ignore: tuple[str, ...] = (), **column_fields) -> dict:
	result = jobs.prepare(doc)
	for column in doc.columns:
		if column.header in ignore:
			column.ignore = 1
		if column.header in column_fields:
			column.fieldname = column_fields[column.header]
	doc.save()
	return result


def run(doc, batch_size: int | None = None):
	"""Start the import and run its job here (frappe.enqueue doesn't run jobs under tests)."""
	token = jobs.start(doc, enqueue=False)
	frappe.db.commit()
	jobs.run_import_job(doc.name, token, batch_size=batch_size)
	doc.reload()
	return doc


def created(doc) -> list[str]:
	names = []
	for batch in frappe.get_all(
		"Opportunity Import Batch", {"import_run": doc.name}, ["created_records"], order_by="first_row"
	):
		names.extend(json.loads(batch.created_records or "{}").get("Opportunity", []))
	return names


def made_by_name(doc, *fields) -> dict:
	"""opportunity name → the run's new opportunities with `fields`."""
	return {
		r.opportunity_name: r
		for r in frappe.get_all(
			"Opportunity",
			filters={"name": ("in", created(doc) or [""])},
			fields=["opportunity_name", *fields],
		)
	}


def assert_accounted(doc):
	doc.reload()
	assert doc.created_count + doc.updated_count + doc.skipped_count + doc.failed_count == doc.rows_read


@pytest.fixture
def cleanup():
	"""Track what tests commit; delete it afterwards."""
	made = {
		"imports": [],
		"Opportunity": [],
		"Contact": [],
		"Address": [],
		"Organization": [],
		"Opportunity Import Template": [],
		"User": [],
	}
	yield made
	frappe.db.rollback()
	frappe.set_user("Administrator")
	for name in made["imports"]:
		for batch in frappe.get_all("Opportunity Import Batch", {"import_run": name}, ["created_records"]):
			records = json.loads(batch.created_records or "{}")
			for doctype in ("Opportunity", "Address", "Contact", "Organization"):
				made[doctype].extend(records.get(doctype, []))
		frappe.db.delete("Opportunity Import Batch", {"import_run": name})
		files = frappe.get_all(
			"File", {"attached_to_doctype": IMPORT, "attached_to_name": name}, pluck="name"
		)
		import_file = frappe.db.get_value(IMPORT, name, "import_file")
		files += frappe.get_all("File", {"file_url": import_file}, pluck="name") if import_file else []
		for file in set(files):
			frappe.delete_doc("File", file, force=True, ignore_permissions=True)
		# the traces of its files (attached, replaced, removed): comments and Deleted Document rows
		frappe.db.delete("Comment", {"reference_doctype": IMPORT, "reference_name": name})
		frappe.db.delete("Deleted Document", {"deleted_doctype": "File", "data": ("like", f"%{name}%")})
		frappe.db.delete(IMPORT, {"name": name})
		frappe.db.delete("Opportunity Import Column", {"parent": name})
		frappe.db.delete("Opportunity Import Default", {"parent": name})
	opportunities = list(set(made["Opportunity"]))
	for start in range(0, len(opportunities), 1000):  # a run's thousands of rows, a chunk per query
		chunk = opportunities[start : start + 1000]
		frappe.db.delete("Opportunity", {"name": ("in", chunk)})
		frappe.db.delete("__global_search", {"doctype": "Opportunity", "name": ("in", chunk)})
		# the traces saves and imports leave: versions, assignments
		frappe.db.delete("Version", {"ref_doctype": "Opportunity", "docname": ("in", chunk)})
		frappe.db.delete("ToDo", {"reference_type": "Opportunity", "reference_name": ("in", chunk)})
		frappe.db.delete("Opportunity Stage History", {"opportunity": ("in", chunk)})
		from opportunity_suite.services import totals  # the pre-aggregated totals without them

		totals.refresh(chunk)
	for user in made["User"]:  # Frappe made a Contact for each user
		made["Contact"].extend(frappe.get_all("Contact", {"user": user}, pluck="name"))
	# with the traces a deletion leaves (an undo deletes contacts and organizations too)
	for doctype in ("Address", "Contact", "Organization", "Opportunity Import Template", "User"):
		delete_committed(doctype, list(set(made[doctype])))
	delete_committed("Notification Settings", made["User"])  # a user's settings outlive it
	frappe.db.commit()
