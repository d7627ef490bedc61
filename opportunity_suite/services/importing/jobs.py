"""Background jobs of Opportunity Import: prepare, start, resume (button and scheduler watchdog).

A run is one RQ job on the `long` queue with the job id `opportunity_import::<name>::<run token>`
(deduplicated, so it can't be queued twice) and that run token written on the import: a resumed run gets
a new token (and so a new job id: a stale job finishing late can't overwrite the new job's record in
Redis), and a stale job that wakes up finds the token changed and stops before writing."""

import json

import frappe
from frappe import _
from frappe.utils import add_to_date, now_datetime

from opportunity_suite.services import background
from opportunity_suite.services.importing import mapping
from opportunity_suite.services.importing.columns import given_defaults
from opportunity_suite.services.importing.common import (
	BATCH_DOCTYPE,
	FAILED_REASON_HEADER,
	FAILED_ROW_HEADER,
	IMPORT_DOCTYPE,
	Superseded,
	readable,
)
from opportunity_suite.services.importing.formats import format_for, format_of_kind, open_file
from opportunity_suite.services.importing.formats.text import detect_encoding
from opportunity_suite.services.importing.runner import ImportRun

JOB_PREFIX = "opportunity_import::"
STALL_AFTER_SECONDS = 120
TEMPLATE_DOCTYPE = "Opportunity Import Template"
SETTINGS_FIELDS = (
	"duplicate_policy",
	"match_fields",
	"number_format",
	"date_format",
	"create_missing_organizations",
	"defaults",
	"vcard_name_pattern",
	"user_map",
)


class ImportStateError(frappe.ValidationError):
	pass


def job_id(import_name: str, run_token: str | None = None) -> str:
	"""The RQ job id of the import's current run (from its run token)."""
	if run_token is None:
		run_token = frappe.db.get_value(IMPORT_DOCTYPE, import_name, "run_token") or ""
	return f"{JOB_PREFIX}{import_name}::{run_token[:12]}"


# ---------------------------------------------------------------- prepare


def prepare(doc) -> dict:
	"""Detect the file's kind, encoding and delimiter, and fill the column map (a template's choices
	first, then automatic matching). Returns a preview of the first rows."""
	file_format = format_for(doc.import_file)
	doc.file_kind = file_format.kind
	if file_format.text:
		path = open_file(doc.import_file, doc.file_kind, "latin-1", ",").path
		doc.detected_encoding = detect_encoding(path)
		if not doc.encoding:
			doc.encoding = doc.detected_encoding
	rows = open_file(doc.import_file, doc.file_kind, doc.encoding, doc.delimiter, doc.sheet_name)
	rows.check()
	headers = rows.headers()
	preview = rows.preview(5)
	template_columns = None
	if doc.template:
		template = frappe.get_doc(TEMPLATE_DOCTYPE, doc.template)
		for field in SETTINGS_FIELDS:
			doc.set(field, template.get(field))
		template_columns = [c.as_dict() for c in template.columns]
	doc.set("columns", [])
	if file_format.has_column_map:
		for column in mapping.auto_match(headers, template_columns):
			if column["header"] in (FAILED_REASON_HEADER, FAILED_ROW_HEADER):  # a failed-rows file's own
				column.update(fieldname=None, ignore=1)
			sample = next(
				(
					r[column["column_no"] - 1]
					for r in preview
					if len(r) >= column["column_no"] and r[column["column_no"] - 1] not in (None, "")
				),
				"",
			)
			column["sample"] = str(sample)[:140]
			doc.append("columns", column)
	doc.save()
	return {
		"headers": headers,
		"preview": [[_json_safe(v) for v in r] for r in preview],
		"kind": doc.file_kind,
	}


def _json_safe(value):
	return value if value is None or isinstance(value, str | int | float) else str(value)


def save_template(doc, template_name: str) -> str:
	"""Save the import's column map and settings as a named template (replacing one of that name)."""
	if frappe.db.exists(TEMPLATE_DOCTYPE, template_name):
		template = frappe.get_doc(TEMPLATE_DOCTYPE, template_name)
	else:
		template = frappe.new_doc(TEMPLATE_DOCTYPE)
		template.template_name = template_name
	for field in SETTINGS_FIELDS:
		template.set(field, doc.get(field))
	given = given_defaults(doc)  # a template keeps its defaults as JSON, the table's included
	template.defaults = json.dumps(given) if given else None
	template.set(
		"columns",
		[
			{"header": c.header, "fieldname": c.fieldname, "ignore": c.ignore, "column_no": c.column_no}
			for c in doc.columns
		],
	)
	template.save() if not template.is_new() else template.insert()
	return template.name


# ---------------------------------------------------------------- start / resume


def start(doc, enqueue: bool = True) -> str:
	"""Check the file and the map, then queue the run. `enqueue=False` only marks it Queued with a fresh
	run token (returned), for a caller that runs `run_import_job` itself."""
	if doc.status not in ("Pending", "Failed"):
		frappe.throw(_("This import has already run ({0}).").format(_(doc.status)), exc=ImportStateError)
	if not doc.columns and (not doc.file_kind or format_of_kind(doc.file_kind).has_column_map):
		prepare(doc)
	run = ImportRun(doc.name)
	run.prepare()  # check the file and the map now, so the user sees problems at once
	# a run that failed after committing batches continues from its checkpoint: never twice the same rows;
	# one whose every row failed wrote nothing, and starts again from the first row (fix and retry)
	has_batches = _forget_batches_that_wrote_nothing(doc.name)
	return _enqueue(doc.name, reset=not has_batches, enqueue=enqueue)


def _forget_batches_that_wrote_nothing(import_name: str) -> bool:
	"""Delete the run's checkpoints if none of them wrote anything (every row failed); True if some did."""
	batches = frappe.get_all(
		BATCH_DOCTYPE,
		filters={"import_run": import_name},
		fields=[
			"name",
			"created_count",
			"updated_count",
			"skipped_count",
			"created_records",
			"before_images",
		],
	)
	for batch in batches:
		created = {k: v for k, v in json.loads(batch.created_records or "{}").items() if k != "modified"}
		if (
			batch.created_count
			or batch.updated_count
			or batch.skipped_count
			or any(created.values())
			or json.loads(batch.before_images or "[]")
		):
			return True
	if batches:
		frappe.db.delete(BATCH_DOCTYPE, {"import_run": import_name})
	return False


def _enqueue(import_name: str, reset: bool = False, enqueue: bool = True) -> str:
	token = frappe.generate_hash(length=16)
	run_job_id = job_id(import_name, token)
	updates = {
		"status": "Queued",
		"run_token": token,
		"job_id": run_job_id,
		"error": None,
		"heartbeat": now_datetime(),
	}
	if reset:
		updates.update(
			checkpoint=0,
			total_rows=0,
			rows_read=0,
			created_count=0,
			updated_count=0,
			skipped_count=0,
			failed_count=0,
		)
	frappe.db.set_value(IMPORT_DOCTYPE, import_name, updates, update_modified=False)
	if not enqueue:
		return token
	frappe.enqueue(
		"opportunity_suite.services.importing.jobs.run_import_job",
		queue="long",
		timeout=4 * 3600,
		job_id=run_job_id,
		deduplicate=True,
		enqueue_after_commit=True,
		import_name=import_name,
		run_token=token,
	)
	return run_job_id


def run_import_job(import_name: str, run_token: str | None = None, batch_size: int | None = None):
	"""The job: runs (or continues) the import; a failure before any write marks it Failed with the reason."""
	try:
		run = ImportRun(import_name, run_token, **({"batch_size": batch_size} if batch_size else {}))
		run.run()
	except (Superseded, frappe.DoesNotExistError) as e:
		frappe.db.rollback()  # taken over by a resumed run, or the import was deleted meanwhile
		frappe.logger("opportunity_import").info(
			f"{import_name}: run {run_token} stopped: {e!r}", exc_info=True
		)
	except Exception as e:
		frappe.db.rollback()
		message = readable(e)
		frappe.clear_last_message()
		frappe.log_error(
			title=_("Opportunity Import {0} failed").format(import_name),
			reference_doctype=IMPORT_DOCTYPE,
			reference_name=import_name,
		)
		frappe.db.set_value(
			IMPORT_DOCTYPE, import_name, {"status": "Failed", "error": message[:2000]}, update_modified=False
		)
		frappe.db.commit()
		_results_so_far(import_name)


def _results_so_far(import_name: str):
	"""A run that stopped still gets the results file of the rows it committed."""
	from opportunity_suite.services.importing.results import write_results_file

	try:
		if frappe.db.exists(BATCH_DOCTYPE, {"import_run": import_name}):
			file_url = write_results_file(import_name)
			frappe.db.set_value(IMPORT_DOCTYPE, import_name, "results_file", file_url, update_modified=False)
			frappe.db.commit()
	except Exception:
		frappe.db.rollback()
		frappe.log_error(title=_("Opportunity Import {0}: results file").format(import_name))


def job_is_alive(import_name: str) -> bool:
	"""Is the run's RQ job queued, or started by a worker that still exists?"""
	return background.job_is_alive(job_id(import_name))


def resume(doc) -> str:
	if doc.status not in ("Running", "Queued"):
		frappe.throw(
			_("Only an import left Running can be resumed (this one is {0}).").format(_(doc.status)),
			exc=ImportStateError,
		)
	if job_is_alive(doc.name):
		frappe.throw(_("This import is still running."), exc=ImportStateError)
	_forget_dead_job(doc.name)
	return _enqueue(doc.name)


def _forget_dead_job(import_name: str):
	background.forget_job(job_id(import_name))


def resume_stalled_imports():
	"""Scheduler watchdog: resume runs left Running (or Queued) with no live job and no progress lately."""
	cutoff = add_to_date(now_datetime(), seconds=-STALL_AFTER_SECONDS)
	stalled = frappe.get_all(
		IMPORT_DOCTYPE,
		filters={"status": ("in", ("Running", "Queued")), "heartbeat": ("<", cutoff)},
		fields=["name", "owner"],
	)
	for row in stalled:
		if job_is_alive(row.name):
			continue
		user = frappe.session.user
		try:
			frappe.set_user(row.owner)  # the resumed job runs with the import owner's permissions
			_forget_dead_job(row.name)
			_enqueue(row.name)
			frappe.db.commit()
		finally:
			frappe.set_user(user)
