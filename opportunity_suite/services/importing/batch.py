"""One batch of an import: its rows' vCard contacts, links, duplicate policy, then the new records in
multi-row INSERTs and the updates of existing ones, each row checked by the same code a save runs."""

import json
from itertools import chain
from typing import TYPE_CHECKING

import frappe
from frappe import _
from frappe.utils import cstr, now_datetime

from opportunity_suite.services.assignment import follow_assigned_to, new_assignment_rows
from opportunity_suite.services.forecast import amount_rules, compute_amounts
from opportunity_suite.services.importing.common import DOCTYPE, RowError, failed_row, plain
from opportunity_suite.services.importing.links import LinkResolver
from opportunity_suite.services.importing.policy import DuplicatePolicy, combine, differs
from opportunity_suite.services.importing.vcard_contacts import VCardContacts
from opportunity_suite.services.importing.writer import (
	execute,
	insert_rows,
	insert_statements,
	reserve_names,
	upsert_global_search,
)
from opportunity_suite.services.picklists import check_picklist_values, disabled_picklist_values
from opportunity_suite.services.stages import apply_stage, get_stage

if TYPE_CHECKING:
	from opportunity_suite.services.importing.runner import ImportRun


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


class BatchWriter(VCardContacts, LinkResolver, DuplicatePolicy):
	def __init__(self, run: "ImportRun", rows: list[tuple[int, list]], row_by_row: bool = False):
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
		self.result.failed.append(failed_row(row_no, row, reason))

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
			execute(
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
				combine(doc, record, overwrite=run.policy == "Overwrite")
			try:
				self.validate(doc, frappe._dict(before))
				reassigned = doc.assigned_to and differs(doc.assigned_to, before.assigned_to)
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
				and differs(doc.get(f), before.get(f))
			}
			if changed:
				image = {f: plain(before.get(f)) for f in changed}
				image.update(modified=plain(before.modified), modified_by=before.modified_by)
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
