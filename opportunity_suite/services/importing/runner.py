"""One Opportunity Import run: stream the file, turn rows into opportunities with the same code a save
runs, apply the duplicate policy, and write a batch at a time.

Each batch is one transaction holding its rows, the `OPP-#####` numbers it reserved, its global-search
entries, its checkpoint (an Opportunity Import Batch row: what it created, the before-images of what it
changed, its failed rows) and the run's counts. A killed worker therefore loses at most the batch in
flight, which the resumed run redoes: no row is written twice or lost. A row that fails is recorded
with its reason and never costs the rest of its batch."""

import datetime
import json
import re
from collections.abc import Iterable, Iterator
from decimal import Decimal
from itertools import chain

import frappe
from frappe import _
from frappe.utils import cstr, now_datetime
from pymysql.converters import escape_string

from opportunity_suite.services.assignment import follow_assigned_to, new_assignment_rows
from opportunity_suite.services.forecast import amount_rules, compute_amounts
from opportunity_suite.services.importing import mapping, organizations, people, readers, values
from opportunity_suite.services.importing.readers import FileRows, ImportFileError
from opportunity_suite.services.importing.vcard import COLUMNS as VCARD_COLUMNS
from opportunity_suite.services.importing.versions import record_import_versions
from opportunity_suite.services.picklists import check_picklist_values, disabled_picklist_values
from opportunity_suite.services.stages import apply_stage, get_stage

DOCTYPE = "Opportunity"
IMPORT_DOCTYPE = "Opportunity Import"
BATCH_DOCTYPE = "Opportunity Import Batch"
BATCH_SIZE = 2500
FAILED_REASON_HEADER = "Import Error"
PROGRESS_FIELDS = (
	"status",
	"total_rows",
	"rows_read",
	"created_count",
	"updated_count",
	"skipped_count",
	"failed_count",
)
POLICIES = ("None", "Skip", "Overwrite", "Merge")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


class Superseded(Exception):
	"""Another run (a resume) took over this import: this one stops quietly."""


class RowError(Exception):
	pass


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


class ImportRun:
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
		self.file = FileRows(
			doc.import_file, doc.file_kind or None, doc.encoding, doc.delimiter, doc.sheet_name
		)
		self.kind = self.file.kind
		self.file.check()  # a byte that doesn't decode stops here, before any write
		self.headers = self.file.headers()
		self.number_format = doc.number_format or "1,234.56"
		self.date_format = doc.date_format or "yyyy-mm-dd"
		self.fields = mapping.importable_fields()
		if self.kind == "VCF":
			self.column_map = {}
		else:
			self.column_map = mapping.validate_columns([c.as_dict() for c in doc.columns], self.headers)
		self.converters = [(index, f, self.converter(f)) for index, f in self.column_map.items()]
		self.defaults = self._parse_defaults()
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

	def _parse_defaults(self) -> dict:
		raw = self.doc.defaults
		if not raw:
			return {}
		try:
			given = json.loads(raw) if isinstance(raw, str) else raw
		except ValueError:
			frappe.throw(_("Defaults must be a JSON object of fieldname → value."))
		if not isinstance(given, dict):
			frappe.throw(_("Defaults must be a JSON object of fieldname → value."))
		out = {}
		for fieldname, value in given.items():
			if fieldname not in self.fields:
				frappe.throw(_("Defaults: Opportunity has no field {0}.").format(fieldname))
			try:
				out[fieldname] = self.convert(fieldname, value)
			except values.CellError as e:
				frappe.throw(_("Defaults: {0}: {1}").format(fieldname, e))
		return out

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

	# -------------------------------------------------------- values

	def converter(self, fieldname: str):
		"""The function turning one cell into `fieldname`'s value (CellError when it can't)."""
		df = self.fields[fieldname]
		fieldtype = df.fieldtype
		number_format, date_format = self.number_format, self.date_format
		if fieldtype == "Currency":
			return lambda v: values.to_currency(v, number_format)
		if fieldtype == "Float":
			return lambda v: values.to_float(v, number_format)
		if fieldtype == "Int":
			return lambda v: values.to_int(v, number_format)
		if fieldtype == "Percent":
			return lambda v: values.to_percent(v, number_format)
		if fieldtype == "Check":
			return values.to_check
		if fieldtype in ("Date", "Datetime"):
			return lambda v: values.to_date(v, date_format)
		if fieldtype == "Select":
			return values.to_select((df.options or "").split("\n"))
		return values.text_converter(df)

	def convert(self, fieldname: str, value):
		return self.converter(fieldname)(value)

	def row_values(self, row: list) -> dict:
		"""The row's cells as field values; RowError listing every cell that doesn't parse."""
		out, errors = {}, []
		if self.kind == "CSV":
			try:
				readers.check_row_shape(row, len(self.headers))
			except readers.RowShapeError as e:
				raise RowError(str(e)) from None
		width = len(row)
		for index, fieldname, convert in self.converters:
			cell = row[index] if index < width else None
			if cell is None or cell == "":
				continue
			try:
				converted = convert(cell)
			except values.CellError as e:
				errors.append(_("{0}: {1}").format(self.headers[index], e))
				continue
			if converted is not None:
				out[fieldname] = converted
		if not errors:
			errors = self._check_currency_marks(row, out)
		if errors:
			raise RowError("; ".join(errors))
		if out.get("probability") == 0 and "probability_is_manual" not in out:
			out["probability_is_manual"] = 1  # a 0 in the file is a value, not "not given"
		return out

	def _check_currency_marks(self, row: list, out: dict) -> list[str]:
		"""An amount written with a currency sign or code other than the row's currency (`€1,500` on a
		USD row) is refused: it can't be taken as that many dollars."""
		errors = []
		currency = out.get("currency") or self.defaults.get("currency") or self.default_currency
		for index, fieldname, _convert in self.converters:
			if self.fields[fieldname].fieldtype == "Currency" and index < len(row):
				try:
					values.check_currency_mark(row[index], currency)
				except values.CellError as e:
					errors.append(_("{0}: {1}").format(self.headers[index], e))
		return errors

	# -------------------------------------------------------- the loop

	def run(self):
		self._claim()
		self.prepare()
		if not self.doc.total_rows:
			total = sum(1 for _n, row in self.file if _n > 1 and _has_values(row))
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

	def parse(self, rows: list[tuple[int, list]]) -> tuple[list, list]:
		"""The rows as field values: ([(row_no, row, record)], [failed rows]). No database work."""
		parsed, failed = [], []
		for row_no, row in rows:
			try:
				record = self.card_values(row) if self.kind == "VCF" else self.row_values(row)
				for fieldname, value in self.defaults.items():
					if record.get(fieldname) in (None, "") and fieldname != "lost_reason":
						record[fieldname] = value  # a default lost reason is only for Lost rows (validate)
				parsed.append((row_no, row, record))
			except (RowError, values.CellError, frappe.ValidationError) as e:
				frappe.clear_last_message()
				failed.append(_failed_row(row_no, row, str(e)))
		return parsed, failed

	def card_values(self, row: list) -> dict:
		card = dict(zip(VCARD_COLUMNS, row, strict=False))
		if not (card.get("Full Name") or card.get("Organization") or card.get("Email")):
			raise RowError(_("The card has no name, organization or email."))
		pattern = self.doc.vcard_name_pattern or "{organization} – {full_name}"
		placeholders = {
			"organization": card.get("Organization") or "",
			"full_name": card.get("Full Name") or "",
			"first_name": card.get("First Name") or "",
			"last_name": card.get("Last Name") or "",
			"email": card.get("Email") or "",
		}
		name = _PLACEHOLDER.sub(lambda m: placeholders.get(m.group(1), m.group(0)), pattern)
		name = re.sub(r"^[\s–-]+|[\s–-]+$", "", name) or placeholders["full_name"] or placeholders["email"]
		record = {"opportunity_name": name[:140], "_card": card}
		if self.has_organization and card.get("Organization"):
			record["organization"] = card["Organization"]
		return record

	def _resync_last_batch_search(self):
		"""A killed worker may have committed its last two batches before their global-search rows were
		all written (they go through a second connection, one batch behind): write them again."""
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
			if row_no <= checkpoint or not _has_values(row):
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
			# one bad row must not cost the batch: redo it row by row, each under a savepoint
			frappe.db.rollback()
			frappe.db.get_value(IMPORT_DOCTYPE, self.name, "name", for_update=True)
			frappe.clear_last_message()
			result = BatchWriter(self, rows, row_by_row=True).write()
		record_import_versions(self, result)  # the timeline of each overwritten or merged record
		self._record_batch(batch_no, rows, result)
		if self.search_writer:  # the previous batch's search rows are in before this batch commits
			self.search_writer.wait(self._search_pending)
			self._search_pending = result.search_pending
		frappe.db.commit()
		_after_rows_written(result.written)
		self.publish_progress()

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

	def _record_batch(self, batch_no: int, rows, result: "BatchResult"):
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
		failed = frappe.db.get_value(IMPORT_DOCTYPE, self.name, "failed_count")
		file_url = write_failed_rows_file(self.name, self.headers) if failed else None
		frappe.db.set_value(
			IMPORT_DOCTYPE,
			self.name,
			{
				"status": "Completed with Errors" if failed else "Completed",
				"finished_on": now_datetime(),
				"failed_rows_file": file_url,
				"heartbeat": now_datetime(),
			},
			update_modified=False,
		)
		frappe.db.commit()
		frappe.publish_realtime(
			"opportunity_import_refresh", {"name": self.name}, doctype=IMPORT_DOCTYPE, docname=self.name
		)


_END = object()


def _failed_row(row_no: int, row: list, reason: str) -> list:
	return [row_no, [_plain(v) for v in row], cstr(reason)]


def _has_values(row) -> bool:
	return any(v not in (None, "") and (not isinstance(v, str) or v.strip()) for v in row)


# ---------------------------------------------------------------- one batch


class BatchResult:
	def __init__(self):
		self.created = 0
		self.updated = 0
		self.skipped = 0
		self.failed: list[list] = []  # [row_no, original cells, reason]
		self.created_records: dict[str, list[str]] = {}
		self.before_images: list[dict] = []
		self.written: list[tuple[frappe._dict, bool, dict | None]] = []  # (row, created?, before-image)
		self.modified = None
		self.search_pending = None


class BatchWriter:
	def __init__(self, run: ImportRun, rows: list[tuple[int, list]], row_by_row: bool = False):
		self.run = run
		self.rows = rows
		self.row_by_row = row_by_row
		self.result = BatchResult()
		self.now = now_datetime()
		self.result.modified = str(self.now)
		self.stages = {}
		self.readers: dict[str, bool] = {}
		self.amount_rules = amount_rules()
		self.disabled_picklist_values = disabled_picklist_values(run.meta)

	def fail(self, row_no: int, row: list, reason: str):
		self.result.failed.append(_failed_row(row_no, row, reason))

	def write(self, parsed: tuple | None = None) -> BatchResult:
		"""Write the batch; `parsed` is what `ImportRun.parse` made of its rows, when read ahead."""
		run = self.run
		records, failed = parsed or run.parse(self.rows)
		self.result.failed.extend(failed)
		if run.kind == "VCF":
			records = self.make_contacts(records)
		records = self.resolve_links(records)
		new, updates = self.apply_policy(records)
		self.insert_new(new)
		self.apply_updates(updates)
		return self.result

	# -------------------------------------------------------- vCards

	def make_contacts(self, parsed):
		"""Each card's Contact (matched by email; without one, by full name and company) and its
		Organization (from ORG)."""
		run = self.run
		emails = [r["_card"]["Email"] for _n, _row, r in parsed if r["_card"].get("Email")]
		by_email = {}
		if emails:
			for row in frappe.get_all(
				"Contact Email",
				filters={"email_id": ("in", emails), "parenttype": "Contact"},
				fields=["parent", "email_id"],
			):
				by_email.setdefault(values.match_key(row.email_id), row.parent)
		orgs = (
			self.ensure_organizations(
				[r["_card"]["Organization"] for _n, _row, r in parsed if r["_card"].get("Organization")],
				force=True,
			)
			if run.has_organization
			else {}
		)
		out = []
		for row_no, row, record in parsed:
			card = record.pop("_card")
			organization = card.get("Organization")
			if run.has_organization and organization and values.match_key(organization) not in orgs:
				self.fail(row_no, row, organizations.not_found_reason(self, organization))
				continue
			try:
				if card.get("Email"):  # the same person is the same email address
					contact = by_email.get(values.match_key(card["Email"]))
				else:  # no email: the same full name at the same company
					contact = frappe.db.get_value(
						"Contact",
						{
							"full_name": card.get("Full Name") or "",
							"company_name": card.get("Organization") or "",
						},
						"name",
					)
				if not contact:
					contact = self.create_contact(card, orgs.get(values.match_key(card.get("Organization"))))
					if card.get("Email"):
						by_email[values.match_key(card["Email"])] = contact
				if run.has_contact_field:
					record["contact"] = contact
				out.append((row_no, row, record))
			except frappe.ValidationError as e:
				frappe.clear_last_message()
				self.fail(row_no, row, str(e))
		return out

	def create_contact(self, card: dict, organization: str | None) -> str:
		first = card.get("First Name") or card.get("Full Name") or card.get("Email")
		contact = frappe.get_doc(
			{
				"doctype": "Contact",
				"first_name": first,
				"last_name": card.get("Last Name") if card.get("First Name") else None,
				"company_name": card.get("Organization"),
				"designation": card.get("Title"),
				"department": None,
				"email_ids": [{"email_id": card["Email"], "is_primary": 1}] if card.get("Email") else [],
				"phone_nos": [
					*([{"phone": card["Phone"], "is_primary_phone": 1}] if card.get("Phone") else []),
					*([{"phone": card["Mobile"], "is_primary_mobile_no": 1}] if card.get("Mobile") else []),
				],
				"links": [{"link_doctype": "Organization", "link_name": organization}]
				if organization
				else [],
			}
		)
		for email in filter(None, (e.strip() for e in (card.get("Other Emails") or "").split(","))):
			contact.append("email_ids", {"email_id": email})
		for phone in filter(None, (p.strip() for p in (card.get("Other Phones") or "").split(","))):
			contact.append("phone_nos", {"phone": phone})
		# as Frappe's Data Import does: `in_import` skips per-record side trips such as the gravatar lookup
		in_import = frappe.flags.in_import
		frappe.flags.in_import = True
		try:
			contact.insert()
		finally:
			frappe.flags.in_import = in_import
		self.result.created_records.setdefault("Contact", []).append(contact.name)
		return contact.name

	# -------------------------------------------------------- links

	def ensure_organizations(self, names, force: bool = False) -> dict[str, str]:
		"""match key → Organization name; missing ones created when allowed (or for vCards)."""
		return organizations.ensure(self, names, force or bool(self.run.doc.create_missing_organizations))

	def resolve_links(self, parsed):
		run = self.run
		link_fields = {
			f: run.fields[f].options
			for f in run.fields
			if run.fields[f].fieldtype == "Link" and any(r.get(f) for _n, _row, r in parsed)
		}
		resolved: dict[str, dict[str, str]] = {}
		refused: dict[str, dict[str, str]] = {}
		for fieldname, link_doctype in link_fields.items():
			wanted = list(dict.fromkeys(r[fieldname] for _n, _row, r in parsed if r.get(fieldname)))
			if link_doctype == "Organization" and run.has_organization:
				resolved[fieldname] = self.ensure_organizations(wanted)
				continue
			if link_doctype in ("User", "Contact"):  # by login name too / by full name too, with reasons
				resolved[fieldname], refused[fieldname] = (
					people.resolve_users(wanted, run.user_map)
					if link_doctype == "User"
					else people.resolve_contacts(wanted)
				)
				continue
			found = {}
			for name in frappe.get_all(link_doctype, filters={"name": ("in", list(wanted))}, pluck="name"):
				found[values.match_key(name)] = name
			resolved[fieldname] = found
		out = []
		for row_no, row, record in parsed:
			errors = []
			for fieldname, link_doctype in link_fields.items():
				value = record.get(fieldname)
				if not value:
					continue
				name = resolved[fieldname].get(values.match_key(value))
				reason = refused.get(fieldname, {}).get(values.match_key(value))
				if not name and reason:
					errors.append(_("{0}: {1}").format(_(run.fields[fieldname].label), reason))
				elif not name and link_doctype == "Organization" and run.has_organization:
					errors.append(organizations.not_found_reason(self, value))
				elif not name:
					errors.append(_("{0} {1} not found").format(_(link_doctype), value))
				elif link_doctype in run.user_permissions and name not in run.user_permissions[link_doctype]:
					errors.append(
						_("{0} {1} is not permitted by your user permissions").format(_(link_doctype), name)
					)
				else:
					record[fieldname] = name
			if errors:
				self.fail(row_no, row, "; ".join(errors))
			else:
				out.append((row_no, row, record))
		return out

	# -------------------------------------------------------- duplicates

	def key(self, record: dict) -> tuple | None:
		parts = tuple(values.match_key(record.get(f)) for f in self.run.match_fields)
		return parts if all(parts) else None

	def existing_matches(self, parsed) -> dict[tuple, str]:
		"""match key → name of the oldest readable opportunity with those values."""
		run = self.run
		first = run.match_fields[0]
		wanted = list({cstr(r.get(first)).rstrip() for _n, _row, r in parsed if r.get(first)})
		if not wanted:
			return {}
		matches = {}
		for chunk_start in range(0, len(wanted), 1000):
			rows = frappe.get_list(
				DOCTYPE,
				filters={first: ("in", wanted[chunk_start : chunk_start + 1000])},
				fields=["name", *run.match_fields],
				order_by="creation asc",
				limit_page_length=0,
			)
			for row in rows:
				key = self.key(row)
				if key:
					matches.setdefault(key, row.name)
		return matches

	def apply_policy(self, parsed):
		"""(new records with the rows they came from, {existing name: [(row_no, row, record)]})."""
		run = self.run
		new: dict = {}  # key or row_no → [first (row_no, row, record), merged rows...]
		updates: dict[str, list] = {}
		existing = self.existing_matches(parsed) if run.policy != "None" else {}
		for row_no, row, record in parsed:
			key = self.key(record) if run.policy != "None" else None
			if key is None:
				new[("row", row_no)] = [(row_no, row, record)]
				continue
			if key in existing:
				if run.policy == "Skip":
					self.result.skipped += 1
				else:
					updates.setdefault(existing[key], []).append((row_no, row, record))
				continue
			if key in new:  # an earlier row of this file makes this record
				if run.policy == "Skip":
					self.result.skipped += 1
				else:
					first = new[key][0][2]
					_combine(first, record, overwrite=run.policy == "Overwrite")
					new[key].append((row_no, row, None))
				continue
			new[key] = [(row_no, row, record)]
		return list(new.values()), updates

	# -------------------------------------------------------- writing

	def build_new(self, record: dict) -> frappe._dict:
		run = self.run
		doc = frappe._dict(run.template)
		doc.update(record)
		doc.doctype = DOCTYPE
		doc.owner = doc.modified_by = run.user
		doc.creation = doc.modified = self.now
		doc.docstatus = 0
		doc.idx = 0
		if not doc.assigned_to:
			doc.assigned_to = run.user
		self.validate(doc, None)
		if not self.may_read(doc.assigned_to):
			raise RowError(
				_("{0} can't read opportunities and so can't be assigned this one.").format(doc.assigned_to)
			)
		doc._assign = json.dumps([doc.assigned_to])
		return doc

	def may_read(self, user: str) -> bool:
		"""Can `user` read opportunities (their role)? Asked once per user and batch. (A save's
		assignment would share the record instead; an import refuses the row, saying why.)"""
		if user not in self.readers:
			self.readers[user] = bool(frappe.has_permission(DOCTYPE, "read", user=user))
		return self.readers[user]

	def assignments(self, docs) -> tuple[list[str], list[list]]:
		"""Frappe's assignment of each new record to its `assigned_to`: the ToDo rows `assign_to.add`
		writes (fields, rows), so the sidebar, the Assigned To filter and the to-do list agree at once."""
		rows = new_assignment_rows([(doc.name, doc.assigned_to) for doc in docs], self.run.user, self.now)
		fields = list(rows[0]) if rows else []
		self.result.created_records.setdefault("ToDo", []).extend(row["name"] for row in rows)
		return fields, [[row[f] for f in fields] for row in rows]

	def validate(self, doc, before):
		"""What the Opportunity controller's validate does, through the same services."""
		missing = [_(label) for fieldname, label in self.run.required if doc.get(fieldname) in (None, "")]
		if missing:
			raise RowError(_("Missing {0}").format(", ".join(missing)))
		if doc.probability not in (None, "") and not 0 <= float(doc.probability) <= 100:
			raise RowError(_("Probability must be between 0 and 100."))
		# history comes along: a closed-lost deal without a reason is imported (the desk still asks for one)
		apply_stage(doc, before, self.stage(doc.sales_stage), require_lost_reason=False)
		if doc.status == "Lost" and not (doc.lost_reason or "").strip() and self.run.defaults.get("lost_reason"):
			doc.lost_reason = self.run.defaults["lost_reason"]
		check_picklist_values(doc, before, disabled=self.disabled_picklist_values)
		compute_amounts(doc, self.amount_rules)

	def stage(self, name: str | None):
		"""The stage record, read once per batch."""
		if name not in self.stages:
			self.stages[name] = get_stage(name)
		return self.stages[name]

	def insert_new(self, groups: list[list]):
		docs, origins = [], []
		for group in groups:
			record = group[0][2]
			try:
				docs.append(self.build_new(record))
				origins.append(group)
			except (RowError, frappe.ValidationError) as e:
				frappe.clear_last_message()
				for g_row_no, g_row, _r in group:
					self.fail(g_row_no, g_row, str(e))
		if not docs:
			return
		names = reserve_names(self.run.series_prefix, self.run.series_digits, len(docs))
		for doc, name in zip(docs, names, strict=True):
			doc.name = name
		for doc in docs:  # as Document.get_valid_dict: number columns are NOT NULL, empty means 0
			for fieldname in self.run.number_fields:
				if doc.get(fieldname) is None:
					doc[fieldname] = 0
		fields = [  # a column no row of the batch fills is left to its NULL default: less to send
			f
			for f in self.run.insert_fields
			if f not in self.run.null_default_columns or any(doc.get(f) is not None for doc in docs)
		]
		if self.row_by_row:
			kept, kept_origins = [], []
			for doc, group in zip(docs, origins, strict=True):
				frappe.db.savepoint("opportunity_import_row")
				try:
					insert_rows(DOCTYPE, fields, [[doc.get(f) for f in fields]])
					kept.append(doc)
					kept_origins.append(group)
				except Exception as e:
					frappe.db.rollback(save_point="opportunity_import_row")
					for g_row_no, g_row, _r in group:
						self.fail(g_row_no, g_row, _("Could not be saved: {0}").format(e))
			docs, origins = kept, kept_origins
			insert_rows("ToDo", *self.assignments(docs))
		else:  # the records, then their assignments; while MariaDB inserts, Python parses the next batch
			_execute(
				chain(
					insert_statements(DOCTYPE, fields, [[doc.get(f) for f in fields] for doc in docs]),
					insert_statements("ToDo", *self.assignments(docs)),
				),
				while_waiting=self.run.read_ahead,
			)
		self.add_global_search(docs)
		for group in origins:
			self.result.created += 1
			self.result.updated += len(group) - 1  # later rows of the file merged into the new record
		self.result.created_records.setdefault(DOCTYPE, []).extend(doc.name for doc in docs)
		self.result.written.extend((doc, True, None) for doc in docs)

	def add_global_search(self, docs):
		if frappe.local.conf.get("disable_global_search") or not docs:
			return
		from frappe.utils.global_search import get_formatted_value

		fields = self.run.global_search_fields
		entries = []
		for doc in docs:
			content = [
				get_formatted_value(doc.get(df.fieldname), df) for df in fields if doc.get(df.fieldname)
			]
			if content:
				entries.append(
					(DOCTYPE, doc.name, " ||| ".join(content), 0, cstr(doc.opportunity_name)[:140], "")
				)
		if not entries:
			return
		writer = getattr(self.run, "search_writer", None)
		if writer and not self.row_by_row:
			self.result.search_pending = writer.submit(entries)
		else:
			upsert_global_search(entries)

	def apply_updates(self, updates: dict[str, list]):
		if not updates:
			return
		run = self.run
		current = {
			row.name: row
			for row in frappe.get_all(DOCTYPE, filters={"name": ("in", list(updates))}, fields=["*"])
		}
		for name, contributions in updates.items():
			before = current[name]
			doc = frappe._dict(before)
			for _n, _row, record in contributions:
				_combine(doc, record, overwrite=run.policy == "Overwrite")
			try:
				self.validate(doc, frappe._dict(before))
				reassigned = doc.assigned_to and _differs(doc.assigned_to, before.assigned_to)
				if reassigned and not self.may_read(doc.assigned_to):
					raise RowError(
						_("{0} can't read opportunities and so can't be assigned this one.").format(
							doc.assigned_to
						)
					)
			except (RowError, frappe.ValidationError) as e:
				frappe.clear_last_message()
				for row_no, row, _r in contributions:
					self.fail(row_no, row, str(e))
				continue
			changed = {
				f: doc.get(f)
				for f in run.insert_fields
				if f not in ("name", "creation", "owner", "modified", "modified_by")
				and _differs(doc.get(f), before.get(f))
			}
			if changed:
				image = {f: _plain(before.get(f)) for f in changed}
				image.update(modified=_plain(before.modified), modified_by=before.modified_by)
				changed.update(modified=self.now, modified_by=run.user)
				if self.row_by_row:
					frappe.db.savepoint("opportunity_import_row")
				try:
					frappe.db.set_value(DOCTYPE, name, changed, update_modified=False)
					if reassigned:  # as a save does: Frappe's assignment follows assigned_to
						follow_assigned_to(name, doc.assigned_to, before.assigned_to, self.now, run.user)
				except Exception as e:
					if not self.row_by_row:
						raise
					frappe.db.rollback(save_point="opportunity_import_row")
					for row_no, row, _r in contributions:
						self.fail(row_no, row, _("Could not be saved: {0}").format(e))
					continue
				self.result.before_images.append(
					{"name": name, "modified_after": str(self.now), "before": image}
				)
				doc.name = name
				self.add_global_search([doc])
				self.result.written.append((doc, False, image))
			self.result.updated += len(contributions)


def _combine(target: dict, record: dict, overwrite: bool):
	"""Overwrite: the row's non-empty cells replace the values (an empty cell never blanks a field).
	Merge: the row fills only the fields that are empty."""
	for fieldname, value in record.items():
		if value in (None, ""):
			continue
		if fieldname != "name" and (overwrite or target.get(fieldname) in (None, "")):
			target[fieldname] = value


def _differs(a, b) -> bool:
	if a in (None, "") and b in (None, ""):
		return False
	if isinstance(a, int | float) or isinstance(b, int | float):
		try:
			return float(a or 0) != float(b or 0)
		except (TypeError, ValueError):
			return True
	return cstr(a) != cstr(b)


def _plain(value):
	if value is None or isinstance(value, str | int | float):
		return value
	return cstr(value)


def sql_literal(value) -> str:
	"""A value as an SQL literal, escaped exactly as the driver (pymysql) escapes a bound parameter."""
	kind = type(value)
	if value is None:
		return "NULL"
	if kind is str:
		return "'" + escape_string(value) + "'"
	if kind is int or kind is float:
		return repr(value)
	if kind is bool:
		return "1" if value else "0"
	if kind is datetime.date:
		return "'" + value.isoformat() + "'"
	if kind is datetime.datetime:
		return "'" + value.isoformat(" ") + "'"
	if kind is Decimal:
		return str(value)
	return frappe.db._conn.literal(value)


GLOBAL_SEARCH_INSERT = (
	"INSERT INTO `__global_search` (`doctype`, `name`, `content`, `published`, `title`, `route`) VALUES "
)
GLOBAL_SEARCH_UPSERT = (
	" ON DUPLICATE KEY UPDATE `content` = VALUES(`content`), `published` = VALUES(`published`), "
	"`title` = VALUES(`title`), `route` = VALUES(`route`)"
)


VALUES_PER_STATEMENT = 500


def _literal_rows(rows: list) -> Iterator[str]:
	"""Each row as `(v1,v2,…)`. A value repeated across rows (stage, currency, user, timestamps, zeros)
	is turned into its literal once. (Equal numbers of different types, 1 and 1.0, share a literal:
	both store the same number.)"""
	memo: dict = {None: "NULL"}
	for row in rows:
		parts = []
		for value in row:
			try:
				literal = memo.get(value)
				if literal is None:
					literal = memo[value] = sql_literal(value)
			except TypeError:  # not hashable
				literal = sql_literal(value)
			parts.append(literal)
		yield "(" + ",".join(parts) + ")"


def _value_statements(statement_head: str, rows: list, tail: str = ""):
	literals = _literal_rows(rows)
	for start in range(0, len(rows), VALUES_PER_STATEMENT):
		count = min(VALUES_PER_STATEMENT, len(rows) - start)
		yield statement_head + ",".join(next(literals) for _ in range(count)) + tail


def _execute(statements: Iterable[str], while_waiting=None):
	"""Run `statements` (multi-row INSERTs built from driver-escaped literals) on the transaction's
	connection; MariaDB runs one statement while Python builds the next.

	Why not `frappe.db.bulk_insert`: it renders every value through pypika, about 1 ms per 28-column row
	here, more than everything else an import does; pymysql's executemany costs half of that again in
	generic escaping. Escaping by type with the driver's own `escape_string` is several times faster.
	Column names come from the DocType's meta, values only through `sql_literal`/`escape_string`.
	The statements go to the connection directly (`frappe.db.sql` runs several regexes over the whole
	text), through the two halves of pymysql's `Connection.query`: send, and read the result. The
	result of a statement is always read before the next is sent, and before this returns or raises;
	`while_waiting` (which must not raise, nor use the database) runs while the last one executes."""
	from pymysql.constants import COMMAND

	frappe.db.sql("SELECT 1")  # the connection and the transaction are up
	connection = frappe.db._conn
	in_flight = False
	try:
		for statement in statements:
			if in_flight:
				in_flight = False
				connection._read_query_result()
			connection._execute_command(COMMAND.COM_QUERY, statement)
			in_flight = True
		if in_flight and while_waiting:
			while_waiting()
	finally:
		if in_flight:
			connection._read_query_result()


def insert_statements(doctype: str, fields: list[str], rows: list[list]) -> Iterator[str]:
	"""A batch of new rows of `doctype` as multi-row INSERTs of 500 rows (built as they are sent)."""
	if not rows:
		return iter(())
	columns = ", ".join(f"`{f}`" for f in fields)
	return _value_statements(f"INSERT INTO `tab{doctype}` ({columns}) VALUES ", rows)


def insert_rows(doctype: str, fields: list[str], rows: list[list], while_waiting=None):
	"""A batch of new rows of `doctype`, one multi-row INSERT per 500 rows."""
	_execute(insert_statements(doctype, fields, rows), while_waiting)


def upsert_global_search(entries: list[tuple]):
	"""Global-search rows (doctype, name, content, published, title, route), written as Frappe's
	`sync_values` writes them: insert, or update on the unique (doctype, name)."""
	_execute(_value_statements(GLOBAL_SEARCH_INSERT, entries, GLOBAL_SEARCH_UPSERT))


class GlobalSearchWriter:
	"""Writes a batch's global-search rows on a second connection while the next batch is prepared.

	`__global_search` is MyISAM with a FULLTEXT index: it ignores transactions, and keeping its index is
	the slowest write of an import. Letting MariaDB do it on its own connection while Python prepares the
	next batch uses the second core. A batch commits only once the previous batch's rows are written, so
	after a killed worker at most the last two committed batches can miss entries; a resumed run rewrites
	those first, and a run is Completed only when all are written."""

	def __init__(self):
		import queue
		import threading

		self.params = dict(
			host=frappe.db.host or "127.0.0.1",
			port=int(frappe.db.port or 3306),
			user=frappe.db.user,
			password=frappe.db.password,
			database=frappe.db.cur_db_name,
			charset="utf8mb4",
			autocommit=True,
		)
		self.queue = queue.Queue()
		self.error: Exception | None = None
		self.thread = threading.Thread(target=self._work, name="opportunity-import-search", daemon=True)
		self.thread.start()

	def _work(self):
		import pymysql

		connection = None
		try:
			connection = pymysql.connect(**self.params)
			with connection.cursor() as cursor:
				while (item := self.queue.get()) is not None:
					statements, done = item
					try:
						for statement in statements:
							cursor.execute(statement)
					except Exception as e:
						self.error = e
					finally:
						done.set()
		except Exception as e:
			self.error = e
		finally:
			if connection:
				connection.close()

	def submit(self, entries: list[tuple]):
		import threading

		done = threading.Event()
		statements = list(_value_statements(GLOBAL_SEARCH_INSERT, entries, GLOBAL_SEARCH_UPSERT))
		self.queue.put((statements, done))
		return done

	def wait(self, done):
		if done is not None:
			done.wait()
		if self.error:
			error, self.error = self.error, None
			raise error

	def close(self):
		self.queue.put(None)
		self.thread.join(timeout=600)


def reserve_names(prefix: str, digits: int, count: int) -> list[str]:
	"""`count` consecutive numbers of the naming series, reserved under the series row's lock (the same
	row Frappe's own naming uses), so desk saves and other imports never get the same number."""
	series = frappe.qb.DocType("Series")
	current = frappe.qb.from_(series).where(series.name == prefix).for_update().select(series.current).run()
	if current and current[0][0] is not None:
		start = int(current[0][0])
		frappe.db.sql("UPDATE `tabSeries` SET `current` = %s WHERE `name` = %s", (start + count, prefix))
	else:
		start = 0
		frappe.db.sql("INSERT INTO `tabSeries` (`name`, `current`) VALUES (%s, %s)", (prefix, count))
	return [f"{prefix}{number:0{digits}d}" for number in range(start + 1, start + count + 1)]


# ---------------------------------------------------------------- failed rows file


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


__all__ = ["ImportFileError", "ImportRun", "_after_rows_written", "reserve_names"]
