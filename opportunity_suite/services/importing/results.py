"""The files a run leaves, attached to its Opportunity Import:

- the results file: every data row of the file with its row number, what became of it (created, updated,
  skipped, failed), the record it made or matched, and the reason or warnings;
- the failed-rows file: the failed rows' own cells, their row number and reason, to fix and import again.

Both are built from the run's batch checkpoints, so a resumed run's file is whole, and both neutralise
formula-like cells as every export of the app does (a re-import undoes exactly that)."""

import csv
import io
import json

import frappe

from opportunity_suite.services.exporting import neutralise_row, neutralise_value
from opportunity_suite.services.importing.common import (
	BATCH_DOCTYPE,
	FAILED_REASON_HEADER,
	FAILED_ROW_HEADER,
	IMPORT_DOCTYPE,
)

RESULTS_HEADERS = ("Row", "Status", "Record", "Reason or Warnings")
STATUSES = ("created", "updated", "skipped", "failed")


def _batches(import_name: str, fields: list[str], **filters):
	return frappe.get_all(
		BATCH_DOCTYPE,
		filters={"import_run": import_name, **filters},
		fields=fields,
		order_by="first_row asc",
	)


def row_outcomes(import_name: str):
	"""Each data row's (row number, status, record, reason or warnings), in file order."""
	for batch in _batches(import_name, ["failed_rows", "row_outcomes", "warnings"]):
		warnings = {int(k): v for k, v in json.loads(batch.warnings or "{}").items()}
		rows = [list(o[:4]) for o in json.loads(batch.row_outcomes or "[]")]
		rows += [
			[row_no, "failed", None, reason]
			for row_no, _cells, reason in json.loads(batch.failed_rows or "[]")
		]
		for row_no, status, record, message in sorted(rows, key=lambda o: o[0]):
			message = "; ".join(filter(None, [message, *warnings.get(row_no, ())]))
			yield row_no, status, record, message


def results_csv(import_name: str) -> str:
	out = io.StringIO()
	writer = csv.writer(out)
	writer.writerow(RESULTS_HEADERS)
	for row_no, status, record, message in row_outcomes(import_name):  # only the last two are text
		writer.writerow((row_no, status, neutralise_value(record), neutralise_value(message)))
	return out.getvalue()


def failed_rows_csv(import_name: str, headers: list[str]) -> str:
	out = io.StringIO()
	writer = csv.writer(out)
	writer.writerow(neutralise_row([*headers, FAILED_ROW_HEADER, FAILED_REASON_HEADER]))
	for batch in _batches(import_name, ["failed_rows"], failed_count=(">", 0)):
		for row_no, cells, reason in json.loads(batch.failed_rows or "[]"):
			cells = list(cells) + [""] * (len(headers) - len(cells))
			writer.writerow(neutralise_row([*cells[: len(headers)], row_no, reason]))
	return out.getvalue()


def _attach(import_name: str, fieldname: str, file_name: str, content: str) -> str:
	"""The run's file in `fieldname` (private, attached to the import), replacing an earlier one."""
	for old in frappe.get_all(
		"File",
		filters={
			"attached_to_doctype": IMPORT_DOCTYPE,
			"attached_to_name": import_name,
			"attached_to_field": fieldname,
		},
		pluck="name",
	):
		frappe.delete_doc("File", old, ignore_permissions=True)
	file = frappe.get_doc(
		{
			"doctype": "File",
			"file_name": file_name,
			"attached_to_doctype": IMPORT_DOCTYPE,
			"attached_to_name": import_name,
			"attached_to_field": fieldname,
			"is_private": 1,
			"content": content.encode("utf-8"),
		}
	).insert(ignore_permissions=True)
	return file.file_url


def write_failed_rows_file(import_name: str, headers: list[str]) -> str:
	"""A CSV of the failed rows: the original cells plus the row number and the reason, to fix and import."""
	return _attach(
		import_name,
		"failed_rows_file",
		f"{import_name}-failed-rows.csv",
		failed_rows_csv(import_name, headers),
	)


def write_results_file(import_name: str) -> str:
	"""The CSV of every row's outcome."""
	return _attach(import_name, "results_file", f"{import_name}-results.csv", results_csv(import_name))
