"""One Opportunity Import run: stream the file, turn rows into opportunities with the same code a save
runs, apply the duplicate policy, and write a batch at a time.

Each batch is one transaction holding its rows, the `OPP-#####` numbers it reserved, its global-search
entries, its checkpoint (an Opportunity Import Batch row: what it created, the before-images of what it
changed, its failed rows) and the run's counts. A killed worker therefore loses at most the batch in
flight, which the resumed run redoes: no row is written twice or lost. A row that fails is recorded
with its reason and never costs the rest of its batch.

The parts: `columns` (cells → values), `batch` (one batch: `vcard_contacts`, `links`, `policy`, then the
writes, through `writer`'s multi-row SQL, naming series and global-search thread), `results` (the files
a run leaves), `versions` (the timeline of what a run changed); this module is the run loop and its
checkpoints."""

import json
from collections.abc import Iterator

import frappe
from frappe import _
from frappe.utils import now_datetime

from opportunity_suite.services import history, search
from opportunity_suite.services.forecast import amount_rules
from opportunity_suite.services.importing import mapping, people
from opportunity_suite.services.importing.batch import BatchResult, BatchWriter
from opportunity_suite.services.importing.columns import ColumnValues
from opportunity_suite.services.importing.common import (
	BATCH_DOCTYPE,
	BATCH_SIZE,
	DOCTYPE,
	FAILED_REASON_HEADER,
	IMPORT_DOCTYPE,
	POLICIES,
	PROGRESS_FIELDS,
	Superseded,
	failed_row,
	has_values,
	readable,
)
from opportunity_suite.services.importing.formats import ImportFileError, open_file
from opportunity_suite.services.importing.results import write_failed_rows_file, write_results_file
from opportunity_suite.services.importing.versions import record_import_versions
from opportunity_suite.services.importing.writer import GlobalSearchWriter
from opportunity_suite.services.opportunity import OpportunityContext


def _after_rows_written(written: list[tuple[frappe._dict, bool, dict | None]]):
	"""Alert rules for the rows a batch committed, through the same alert service a save uses, when
	Opportunity Settings' `alerts_on_import` is on: (row, created?, before-image of an updated row)."""
	from opportunity_suite.services.alerts.dispatcher import alerts_on_import, run_rules_for_imported_row

	if not written or not alerts_on_import():
		return
	for row, is_new, image in written:
		doc = frappe.get_doc(DOCTYPE, row.name)
		before = None
		if image:  # the updated fields' values before the import, over the record as it is now
			before = frappe.get_doc(doc.as_dict())
			before.update(image)
		run_rules_for_imported_row(doc, is_new=is_new, before=before)


# ---------------------------------------------------------------- the run


class ImportRun(ColumnValues):
	def __init__(self, import_name: str, run_token: str | None = None, batch_size: int = BATCH_SIZE):
		self.name = import_name
		self.run_token = run_token
		self.batch_size = batch_size
		self.doc = frappe.get_doc(IMPORT_DOCTYPE, import_name)
		self.meta = frappe.get_meta(DOCTYPE)
		self.user = frappe.session.user

	# -------------------------------------------------------- setup

	def prepare(self):
		doc = self.doc
		self.file = open_file(
			doc.import_file, doc.file_kind or None, doc.encoding, doc.delimiter, doc.sheet_name
		)
		self.kind = self.file.kind
		self.file.check()  # a byte that doesn't decode stops here, before any write
		self.headers = self.file.headers()
		self.number_format = doc.number_format or "1,234.56"
		self.date_format = doc.date_format or "yyyy-mm-dd"
		self.fields = mapping.importable_fields()
		if self.file.has_column_map:
			self.column_map = mapping.validate_columns([c.as_dict() for c in doc.columns], self.headers)
		else:  # its rows come with fixed fields (a vCard's)
			self.column_map = {}
		self.converters = [(index, f, self.converter(f)) for index, f in self.column_map.items()]
		self.defaults = {**self.file.defaults(), **self._parse_defaults()}
		self.user_map = people.parse_user_map(doc.get("user_map"))
		self.default_currency = amount_rules().default_currency
		self.policy = doc.duplicate_policy or "None"
		if self.policy not in POLICIES:
			frappe.throw(_("Unknown duplicate policy {0}.").format(self.policy))
		self.match_fields = [
			f.strip() for f in (doc.match_fields or "").replace("\n", ",").split(",") if f.strip()
		]
		if self.policy != "None":
			if not self.match_fields:
				frappe.throw(_("Choose the fields that identify a duplicate (Match On)."))
			unknown = [f for f in self.match_fields if f not in self.fields]
			if unknown:
				frappe.throw(_("Opportunity has no field {0} to match on.").format(", ".join(unknown)))
		self.insert_fields = self._insert_fields()
		self.required = [(df.fieldname, df.label) for df in self.meta.fields if df.reqd]
		self.null_default_columns = self._null_default_columns()
		self.number_fields = [
			df.fieldname
			for df in self.meta.fields
			if df.fieldtype in ("Int", "Check", "Float", "Currency", "Percent", "Rating")
			and df.fieldname in self.insert_fields
		]
		self.template = self._new_record_template()
		self.user_permissions = self._link_restrictions()
		self.has_organization = self.meta.has_field("organization") and frappe.db.exists(
			"DocType", "Organization"
		)
		self.has_contact_field = self.meta.has_field("contact")
		self.series_prefix, self.series_digits = self._series()
		self.global_search_fields = self.meta.get_global_search_fields()
		self.tracked_fields = history.tracked_fields()  # the stage history's, once per run

	def _insert_fields(self) -> list[str]:
		columns = set(frappe.db.get_table_columns(DOCTYPE))
		standard = ["name", "creation", "modified", "modified_by", "owner", "docstatus", "idx"]
		data = [
			df.fieldname
			for df in self.meta.fields
			if df.fieldtype not in mapping.SKIP_FIELDTYPES | {"Table", "Table MultiSelect"}
			and df.fieldname in columns
		]
		# `_assign`: Frappe's list of assignees, kept with the ToDo rows the import writes (see assign_new)
		return (
			standard + [f for f in data if f not in standard] + (["_assign"] if "_assign" in columns else [])
		)

	def _null_default_columns(self) -> frozenset[str]:
		"""Columns an INSERT may leave out when a batch has no value for them: nullable, with no default
		but NULL, so that leaving them out stores exactly what an explicit NULL would."""
		return frozenset(
			frappe.db.sql_list(
				"""SELECT column_name FROM information_schema.columns
				WHERE table_schema = DATABASE() AND table_name = %s AND is_nullable = 'YES'
				AND (column_default IS NULL OR column_default = 'NULL')""",
				f"tab{DOCTYPE}",
			)
		)

	def _new_record_template(self) -> dict:
		"""The values a new document starts with (field defaults, as the form would set them)."""
		doc = frappe.new_doc(DOCTYPE)
		template = {f: doc.get(f) for f in self.insert_fields if f not in ("name", "creation", "modified")}
		template["probability"] = None
		return template

	def _series(self) -> tuple[str, int]:
		autoname = self.meta.autoname or "OPP-.#####"
		prefix, _dot, hashes = autoname.rpartition(".")
		return prefix, len(hashes) or 5

	def _link_restrictions(self) -> dict[str, set[str]]:
		"""User permissions of the importing user that restrict link values on Opportunity."""
		from frappe.core.doctype.user_permission.user_permission import get_user_permissions

		if self.user == "Administrator":
			return {}
		restrictions = {}
		for doctype, entries in (get_user_permissions(self.user) or {}).items():
			allowed = {
				e.get("doc")
				for e in entries
				if not e.get("applicable_for") or e.get("applicable_for") == DOCTYPE
			}
			if allowed:
				restrictions[doctype] = allowed
		return restrictions

	# -------------------------------------------------------- the loop

	def run(self):
		self._claim()
		self.prepare()
		if not self.doc.total_rows:
			total = self.file.count_rows()
			frappe.db.set_value(IMPORT_DOCTYPE, self.name, "total_rows", total, update_modified=False)
			frappe.db.commit()
			self.doc.total_rows = total
		self.publish_progress()
		checkpoint = self.doc.checkpoint or 1  # row 1 is the header
		batch_no = frappe.db.count(BATCH_DOCTYPE, {"import_run": self.name})
		if batch_no:
			self._resync_last_batch_search()
		self.search_writer = None if frappe.local.conf.get("disable_global_search") else GlobalSearchWriter()
		self._batch_iter = self._batches(checkpoint)
		try:
			while batch := self._next_batch():
				batch_no += 1
				self.write_batch(batch_no, *batch)
			if self.search_writer:
				self.search_writer.wait(self._search_pending)
		finally:
			if self.search_writer:
				self.search_writer.close()
		self.finish()

	search_writer = None
	_search_pending = None
	_batch_iter = None
	_ahead = None  # the next batch, read and parsed ahead: (rows, parsed), _END, or the error it raised

	def read_ahead(self):
		"""Read and parse the next batch. Called while MariaDB inserts the current batch's rows, so that
		Python's share of the next batch (reading the file, turning cells into values) overlaps with it.
		Never raises: an error is kept and raised when that batch's turn comes."""
		if self._ahead is not None or self._batch_iter is None:
			return
		try:
			rows = next(self._batch_iter, None)
			self._ahead = (rows, self.parse(rows)) if rows else _END
		except Exception as e:
			self._ahead = e

	def _next_batch(self) -> tuple[list, tuple | None] | None:
		"""(rows, parsed or None) of the next batch, or None at the end of the file."""
		ahead, self._ahead = self._ahead, None
		if ahead is None:
			rows = next(self._batch_iter, None)
			return (rows, None) if rows else None
		if isinstance(ahead, Exception):
			raise ahead
		return None if ahead is _END else ahead

	def _resync_last_batch_search(self):
		"""A killed worker may have committed its last two batches before their global-search rows and
		search windows were all written (they go through a second connection, one batch behind): write
		them again."""
		names = []
		for last in frappe.get_all(
			BATCH_DOCTYPE,
			filters={"import_run": self.name},
			fields=["created_records", "before_images"],
			order_by="last_row desc",
			limit=2,
		):
			names += json.loads(last.created_records or "{}").get(DOCTYPE, [])
			names += [image["name"] for image in json.loads(last.before_images or "[]")]
		if names:
			docs = frappe.get_all(DOCTYPE, filters={"name": ("in", names)}, fields=["*"])
			BatchWriter(self, []).add_global_search(docs)
			search.refresh([doc.name for doc in docs])

	def _claim(self):
		"""Mark the run as ours (Running), unless a later resume took it over."""
		current = frappe.db.get_value(
			IMPORT_DOCTYPE, self.name, ["run_token", "status"], as_dict=True, for_update=True
		)
		if self.run_token and current.run_token != self.run_token:
			raise Superseded
		if current.status not in ("Queued", "Running"):
			raise Superseded
		frappe.db.set_value(
			IMPORT_DOCTYPE,
			self.name,
			{
				"status": "Running",
				"heartbeat": now_datetime(),
				"started_on": self.doc.started_on or now_datetime(),
				"error": None,
			},
			update_modified=False,
		)
		frappe.db.commit()

	def _batches(self, checkpoint: int) -> Iterator[list[tuple[int, list]]]:
		batch = []
		for row_no, row in self.file:
			if row_no <= checkpoint or not has_values(row):
				continue
			batch.append((row_no, row))
			if len(batch) >= self.batch_size:
				yield batch
				batch = []
		if batch:
			yield batch

	def write_batch(self, batch_no: int, rows: list[tuple[int, list]], parsed: tuple | None = None):
		state = frappe.db.get_value(
			IMPORT_DOCTYPE, self.name, ["run_token", "checkpoint", "status"], as_dict=True, for_update=True
		)
		if (self.run_token and state.run_token != self.run_token) or state.status != "Running":
			frappe.db.rollback()
			raise Superseded
		if (state.checkpoint or 1) >= rows[0][0]:
			frappe.db.rollback()
			raise Superseded  # someone else already wrote this batch
		try:
			result = BatchWriter(self, rows).write(parsed)
		except Exception:
			# one bad row must not cost the batch: redo it row by row, each under a savepoint (20x slower:
			# the log says why, for whoever wonders why an import slowed down)
			frappe.logger("opportunity_suite").warning(
				f"import {self.name}: batch {batch_no} written row by row", exc_info=True
			)
			frappe.db.rollback()
			if self.search_writer:  # the batch's search rows queued so far must not overwrite the rows'
				self.search_writer.drain()
			frappe.db.get_value(IMPORT_DOCTYPE, self.name, "name", for_update=True)
			frappe.clear_last_message()
			result = self.write_row_by_row(rows)
		record_import_versions(self, result)  # the timeline of each overwritten or merged record
		self._record_batch(batch_no, rows, result)
		if self.search_writer:  # the previous batch's search rows are in before this batch commits
			self.search_writer.wait(self._search_pending)
			self._search_pending = result.search_pending
		frappe.db.commit()
		_after_rows_written(result.written)
		self.publish_progress()

	def write_row_by_row(self, rows: list[tuple[int, list]]) -> BatchResult:
		"""The batch again, each row on its own under a savepoint: whatever one row raises fails that row
		(with a readable reason) and undoes what it wrote; the others are written."""
		result = BatchResult()
		now = now_datetime()
		result.modified = str(now)
		rules = OpportunityContext.for_batch()
		for row_no, row in rows:
			frappe.db.savepoint("opportunity_import_batch_row")
			try:
				part = BatchWriter(self, [(row_no, row)], row_by_row=True, now=now, rules=rules).write()
			except Exception as e:
				frappe.db.rollback(save_point="opportunity_import_batch_row")
				frappe.clear_last_message()
				part = BatchResult()
				part.failed.append(failed_row(row_no, row, readable(e)))
			result.add(part)
		return result

	def publish_progress(self):
		"""The run's state (rows done of the total, the counts so far) to whoever has its form open: the
		form draws its progress bar from it."""
		state = frappe.db.get_value(IMPORT_DOCTYPE, self.name, PROGRESS_FIELDS, as_dict=True)
		frappe.publish_realtime(
			"opportunity_import_progress",
			{"name": self.name, **state},
			doctype=IMPORT_DOCTYPE,
			docname=self.name,
		)

	def _record_batch(self, batch_no: int, rows, result: BatchResult):
		frappe.get_doc(
			{
				"doctype": BATCH_DOCTYPE,
				"import_run": self.name,
				"batch_no": batch_no,
				"first_row": rows[0][0],
				"last_row": rows[-1][0],
				"created_count": result.created,
				"updated_count": result.updated,
				"skipped_count": result.skipped,
				"failed_count": len(result.failed),
				"created_records": frappe.as_json(
					{"modified": result.modified, **result.created_records}, indent=None
				),
				"before_images": frappe.as_json(result.before_images, indent=None),
				"failed_rows": frappe.as_json(result.failed, indent=None),
				"row_outcomes": frappe.as_json(result.outcomes, indent=None),
				"warnings": frappe.as_json(result.warnings, indent=None) if result.warnings else None,
			}
		).db_insert()
		totals = frappe.db.get_value(
			IMPORT_DOCTYPE,
			self.name,
			["rows_read", "created_count", "updated_count", "skipped_count", "failed_count"],
			as_dict=True,
		)
		new = {
			"rows_read": (totals.rows_read or 0) + len(rows),
			"created_count": (totals.created_count or 0) + result.created,
			"updated_count": (totals.updated_count or 0) + result.updated,
			"skipped_count": (totals.skipped_count or 0) + result.skipped,
			"failed_count": (totals.failed_count or 0) + len(result.failed),
		}
		frappe.db.set_value(
			IMPORT_DOCTYPE,
			self.name,
			{**new, "checkpoint": rows[-1][0], "heartbeat": now_datetime()},
			update_modified=False,
		)

	def finish(self):
		counts = frappe.db.get_value(IMPORT_DOCTYPE, self.name, ["rows_read", "failed_count"], as_dict=True)
		failed = counts.failed_count or 0
		every_row_failed = bool(failed) and failed >= (counts.rows_read or 0)
		if every_row_failed:
			status = "Failed"
			error = _(
				"Every row failed: nothing was imported. Download the failed rows (each with its reason), "
				"fix them and import that file again."
			)
		else:
			status, error = ("Completed with Errors" if failed else "Completed"), None
		frappe.db.set_value(
			IMPORT_DOCTYPE,
			self.name,
			{
				"status": status,
				"error": error,
				"finished_on": now_datetime(),
				"failed_rows_file": write_failed_rows_file(self.name, self.headers) if failed else None,
				"results_file": write_results_file(self.name),
				"heartbeat": now_datetime(),
			},
			update_modified=False,
		)
		frappe.db.commit()
		frappe.publish_realtime(
			"opportunity_import_refresh", {"name": self.name}, doctype=IMPORT_DOCTYPE, docname=self.name
		)


_END = object()


__all__ = [
	"FAILED_REASON_HEADER",
	"IMPORT_DOCTYPE",
	"PROGRESS_FIELDS",
	"ImportFileError",
	"ImportRun",
	"Superseded",
]
