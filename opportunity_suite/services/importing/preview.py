"""The preview of an import: its first rows as they will be stored, before it starts.

The rows go through the run's own code — the same parse, link resolution, duplicate policy and save
checks (`BatchWriter.write`) — so the preview can't drift from the run. What that writes (records,
organizations, contacts, the naming series) is read back and then rolled back with the whole
transaction: nothing is kept, and nothing queued to run after a commit is run. The global search index,
which lives outside the transaction, is not written at all while previewing."""

import frappe
from frappe import _

from opportunity_suite.services.importing.batch import BatchWriter
from opportunity_suite.services.importing.common import DOCTYPE, RowError
from opportunity_suite.services.importing.runner import ImportRun

PREVIEW_ROWS = 20


def preview(import_name: str, limit: int = PREVIEW_ROWS) -> dict:
	"""{"columns": [{fieldname, label}], "rows": [{row_no, status, record, values, message, cells}]}: the
	first `limit` rows, each with the values it would be stored with (a failed row: the file's), or the
	reason it would fail; `cells`: fieldname → the warnings or errors about that cell."""
	conf = frappe.local.conf
	search_was_off = conf.get("disable_global_search")
	# the search index is written outside the transaction (MyISAM, and Frappe's Redis queue): left out
	conf.disable_global_search = True
	try:
		return _preview(import_name, limit)
	finally:
		frappe.db.rollback()
		frappe.clear_last_message()
		conf.disable_global_search = search_was_off


def _preview(import_name: str, limit: int) -> dict:
	run = ImportRun(import_name)
	run.prepare()
	run.batch_size = limit
	rows = next(run._batches(1), [])  # the run's first batch, `limit` rows long (row 1: the header)
	fieldnames = list(dict.fromkeys([*run.column_map.values(), *run.defaults]))
	fieldnames = list(dict.fromkeys([*run.file.preview_fields, *fieldnames]))
	fieldnames = [f for f in fieldnames if (f in run.fields and run.meta.has_field(f)) or f == "name"]
	try:
		result = BatchWriter(run, rows).write()
	except Exception:  # as the run does: the batch again row by row, so each row shows its own reason
		frappe.db.rollback()
		frappe.clear_last_message()
		result = run.write_row_by_row(rows)
	stored = {}
	names = [o[2] for o in result.outcomes if o[2]]
	if names:
		for record in frappe.get_all(
			DOCTYPE, filters={"name": ("in", names)}, fields=list(dict.fromkeys(["name", *fieldnames]))
		):
			stored[record.name] = record
	made_now = set(result.created_records.get(DOCTYPE, []))
	notes = result.cell_notes
	out = {}
	for row_no, status, record, message in result.outcomes:
		values = stored.get(record) or {}
		out[row_no] = {
			"row_no": row_no,
			"status": status,
			"record": None if record in made_now else record,  # a new record's number isn't kept
			"values": {f: _plain(values.get(f)) for f in fieldnames},
			"message": "; ".join([m for m in [message, *result.warnings.get(row_no, [])] if m]),
			"cells": _cell_messages(notes.get(row_no), fieldnames),
		}
	file_rows = dict(rows)
	for row_no, cells, reason in (f[:3] for f in result.failed):
		row_notes = {f: list(m) for f, m in (notes.get(row_no) or {}).items()}
		for fieldname, message in _parse_errors(run, file_rows.get(row_no)).items():
			row_notes.setdefault(fieldname, []).append(message)
		out[row_no] = {
			"row_no": row_no,
			"status": "failed",
			"record": None,
			# the file's own cells, so that the cell an error is about is there to mark
			"values": {
				f: _plain(cells[i]) for i, f in run.column_map.items() if f in fieldnames and i < len(cells)
			},
			"message": reason,
			"cells": _cell_messages(row_notes, fieldnames),
		}
	return {
		"columns": [
			{"fieldname": f, "label": _(run.fields[f].label or f) if f in run.fields else f}
			for f in fieldnames
		],
		"rows": [out[n] for n in sorted(out)],
		"rows_shown": len(rows),
	}


def _parse_errors(run, row) -> dict[str, str]:
	"""fieldname → why that field's cell doesn't parse, from the run's own parse of the row."""
	if row is None:
		return {}
	try:
		run.file.record(run, row)
	except RowError as e:
		return e.cells
	except Exception:  # any other reason is the row's, already in its message
		frappe.clear_last_message()
	return {}


def _cell_messages(notes: dict | None, fieldnames: list[str]) -> dict[str, str]:
	"""fieldname → the warnings and errors about that cell, for the cells the preview shows."""
	return {f: "; ".join(dict.fromkeys(notes[f])) for f in fieldnames if notes and notes.get(f)}


def _plain(value):
	return value if value is None or isinstance(value, str | int | float) else str(value)
