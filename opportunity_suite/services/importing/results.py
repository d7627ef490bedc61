"""The files a run leaves: the failed rows, ready to fix and import again."""

import json

import frappe

from opportunity_suite.services.importing.common import BATCH_DOCTYPE, FAILED_REASON_HEADER, IMPORT_DOCTYPE


def write_failed_rows_file(import_name: str, headers: list[str]) -> str:
	"""A CSV of the failed rows: the original cells plus the reason, ready to fix and import again."""
	import csv
	import io

	out = io.StringIO()
	writer = csv.writer(out)
	writer.writerow([*headers, FAILED_REASON_HEADER])
	for batch in frappe.get_all(
		BATCH_DOCTYPE,
		filters={"import_run": import_name, "failed_count": (">", 0)},
		fields=["failed_rows"],
		order_by="first_row asc",
	):
		for _row_no, cells, reason in json.loads(batch.failed_rows or "[]"):
			cells = list(cells) + [""] * (len(headers) - len(cells))
			writer.writerow([*cells[: len(headers)], reason])
	for old in frappe.get_all(
		"File",
		filters={
			"attached_to_doctype": IMPORT_DOCTYPE,
			"attached_to_name": import_name,
			"attached_to_field": "failed_rows_file",
		},
		pluck="name",
	):
		frappe.delete_doc("File", old, ignore_permissions=True)
	file = frappe.get_doc(
		{
			"doctype": "File",
			"file_name": f"{import_name}-failed-rows.csv",
			"attached_to_doctype": IMPORT_DOCTYPE,
			"attached_to_name": import_name,
			"attached_to_field": "failed_rows_file",
			"is_private": 1,
			"content": out.getvalue().encode("utf-8"),
		}
	).insert(ignore_permissions=True)
	return file.file_url
