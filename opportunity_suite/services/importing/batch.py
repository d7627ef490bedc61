"""One batch of an import: its rows' links, the duplicate policy, then each row checked by the same code a
save runs and only then written: the organizations (and a vCard's contact) a row needs are created once
the row has passed, the new records go in multi-row INSERTs, the updates of existing ones follow.

Every row ends with one outcome (created / updated / skipped / failed), the record it made or matched and
its reason or warnings: what the run's results file lists."""

import json
from itertools import chain
from typing import TYPE_CHECKING

import frappe
from frappe import _
from frappe.utils import cstr, now_datetime

from opportunity_suite.services import search, totals
from opportunity_suite.services.assignment import follow_assigned_to, new_assignment_rows
from opportunity_suite.services.history import history_row, insert_history
from opportunity_suite.services.importing import competitors, organizations, values
from opportunity_suite.services.importing.common import DOCTYPE, RowError, failed_row, plain, readable
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
from opportunity_suite.services.opportunity import OpportunityContext, validate_opportunity
from opportunity_suite.services.stale import apply_stale, refresh_stale

if TYPE_CHECKING:
	from opportunity_suite.services.importing.runner import ImportRun


class BatchResult:
	def __init__(self):
		self.created = 0
		self.updated = 0
		self.skipped = 0
		self.failed: list[list] = []  # [row_no, original cells, reason]
		self.outcomes: list[list] = []  # [row_no, status, record, message] of the rows that didn't fail
		self.warnings: dict[int, list[str]] = {}  # row_no → what was kept or changed and why
		# row_no → fieldname → the warnings and errors about that field's cell (the preview marks them)
		self.cell_notes: dict[int, dict[str, list[str]]] = {}
		self.created_records: dict[str, list[str]] = {}
		self.before_images: list[dict] = []
		self.written: list[tuple[frappe._dict, bool, dict | None]] = []  # (row, created?, before-image)
		self.modified = None
		self.search_pending = None

	def add(self, other: "BatchResult"):
		"""Take in the result of a part of the batch (a row, when the batch is redone row by row)."""
		self.created += other.created
		self.updated += other.updated
		self.skipped += other.skipped
		self.failed += other.failed
		self.outcomes += other.outcomes
		for row_no, warnings in other.warnings.items():
			self.warnings.setdefault(row_no, []).extend(warnings)
		for row_no, notes in other.cell_notes.items():
			for fieldname, messages in notes.items():
				self.cell_notes.setdefault(row_no, {}).setdefault(fieldname, []).extend(messages)
		for doctype, names in other.created_records.items():
			self.created_records.setdefault(doctype, []).extend(names)
		self.before_images += other.before_images
		self.written += other.written


class BatchWriter(VCardContacts, LinkResolver, DuplicatePolicy):
	def __init__(
		self,
		run: "ImportRun",
		rows: list[tuple[int, list]],
		row_by_row: bool = False,
		now=None,
		rules: OpportunityContext | None = None,
	):
		self.run = run
		self.rows = rows
		self.row_by_row = row_by_row
		self.result = BatchResult()
		self.now = now or now_datetime()
		self.result.modified = str(self.now)
		self.readers: dict[str, bool] = {}
		self.writes_all: bool | None = None  # may the importing user write every opportunity they read?
		# stages, amount rules, disabled values: read once per batch
		self.rules = rules or OpportunityContext.for_batch()
		self.rules.now = self.now  # a stage entered by this batch was entered at its stamp
		self.organizations_made: dict[str, str] = {}
		self.history: list[dict] = []  # the stage history rows of what the batch wrote (services/history.py)

	def fail(self, row_no: int, row: list, reason: str, cells: dict[str, str] | None = None):
		"""Fail the row; `cells`: fieldname → the part of the reason about that field's cell."""
		self.result.failed.append(failed_row(row_no, row, reason))
		for fieldname, message in (cells or {}).items():
			self.note(row_no, fieldname, message)

	def fail_group(self, group: list, error):
		"""Fail every row of the file that makes (or merges into) one record, with the readable reason."""
		frappe.clear_last_message()
		for row_no, row, _r in group:
			self.fail(row_no, row, readable(error), getattr(error, "cells", None))

	def skip(self, row_no: int, reason: str, record: str | None = None):
		self.result.skipped += 1
		self.result.outcomes.append([row_no, "skipped", record, reason])

	def warn(self, row_no: int, warning: str, fieldname: str | None = None):
		"""A warning on the row (the results file lists it); `fieldname`: the cell it is about."""
		self.result.warnings.setdefault(row_no, []).append(warning)
		if fieldname:
			self.note(row_no, fieldname, warning)

	def note(self, row_no: int, fieldname: str, message: str):
		self.result.cell_notes.setdefault(row_no, {}).setdefault(fieldname, []).append(message)

	def write(self, parsed: tuple | None = None) -> BatchResult:
		"""Write the batch; `parsed` is what `ImportRun.parse` made of its rows, when read ahead."""
		run = self.run
		records, failed = parsed or run.parse(self.rows)
		self.result.failed.extend(failed)
		records = self.resolve_links(records)
		new, updates = self.apply_policy(records)
		self.insert_new(new)
		self.apply_updates(updates)
		if (
			run.file.rows_make_contacts
		):  # the contacts of the cards whose opportunity was written, a batch at once
			self.write_contacts()
		self.name_skipped_duplicates()
		self.write_history()
		return self.result

	def write_history(self):
		"""The batch's stage history rows in one multi-row INSERT, and the stale flags of the deals it
		updated (a new deal's were set before its INSERT: `insert_new`)."""
		insert_history(self.history, refresh_viewers=False)  # totals.refresh keys them, the same deals
		# the pre-aggregated totals, a statement or two per batch (services/totals/), before the stale flags
		totals.refresh([doc.name for doc, new, _image in self.result.written if new], new=True)
		totals.refresh([doc.name for doc, new, _image in self.result.written if not new])
		refresh_stale([doc.name for doc, is_new, _image in self.result.written if not is_new])

	def stale_after_days(self, stage_name: str | None):
		stage = self.rules.stage(stage_name)
		return stage.stale_after_days if stage else None

	def name_skipped_duplicates(self):
		"""A row skipped as a duplicate of an earlier row of the file names the record that row made."""
		made = {o[0]: o[2] for o in self.result.outcomes if o[1] in ("created", "updated")}
		for outcome in self.result.outcomes:
			if len(outcome) > 4:  # [row_no, "skipped", None, the earlier row, "earlier row"]
				outcome.pop()
				earlier = outcome[3]
				outcome[2] = made.get(earlier)
				outcome[3] = (
					_("duplicate of {0} (row {1})").format(outcome[2], earlier)
					if outcome[2]
					else _("duplicate of row {0}").format(earlier)
				)

	def make_row_links(self, doc):
		"""What a row that passed its checks needs before it is written: the organizations it names that
		don't exist yet (created once each). RowError when one can't be had."""
		for fieldname, value in (doc.pop("_new_organizations", None) or {}).items():
			key = values.match_key(value)
			name = self.organizations_made.get(key)
			if name is None:
				name = self.ensure_organizations([value], force=True).get(key)
				if not name:
					reason = organizations.not_found_reason(self, value)
					raise RowError(reason, {fieldname: reason})
				self.organizations_made[key] = name
			doc[fieldname] = name

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
		self.validate(doc, None)
		if not self.may_read(doc.assigned_to):
			raise RowError(
				_("{0} can't read opportunities and so can't be assigned this one.").format(doc.assigned_to)
			)
		doc._assign = json.dumps([doc.assigned_to])
		return doc

	def update_contacts(self, doc, contributions: list) -> list:
		"""The contacts of the cards updating `doc` (an existing record); the rows whose contact failed
		are failed by `make_contacts` and left out of what is returned."""
		made = self.make_contacts([c for c in contributions if c[2] and "_card" in c[2]])
		passed = {row_no for row_no, _row, _r in made}
		for _n, _row, record in made:
			if record.get("contact") and (self.run.policy == "Overwrite" or not doc.get("contact")):
				doc["contact"] = record["contact"]
		return [c for c in contributions if c[0] in passed or not (c[2] and "_card" in c[2])]

	def may_read(self, user: str) -> bool:
		"""Can `user` read opportunities (their role)? Asked once per user and batch. (A save's
		assignment would share the record instead; an import refuses the row, saying why.)"""
		if user not in self.readers:
			self.readers[user] = bool(frappe.has_permission(DOCTYPE, "read", user=user))
		return self.readers[user]

	def may_write(self, name: str) -> bool:
		"""May the importing user change the existing opportunity `name`? The duplicates were matched among
		the deals they may read (`existing_matches`), and a read share, an owner-only write right or a User
		Permission can leave one of them read-only. One look per batch for a user whose role writes every
		deal they may read (no if-owner write, no User Permissions, visibility not restricting them);
		Frappe's check of each deal (the app's has_permission hook and shares included) otherwise."""
		user = self.run.user
		if self.writes_all is None:
			from frappe.permissions import get_role_permissions, get_user_permissions

			from opportunity_suite.services import visibility

			self.writes_all = user == "Administrator" or bool(
				get_role_permissions(DOCTYPE, user=user).get("write")
				and visibility.sees_everything(user)
				and not get_user_permissions(user)
			)
		return self.writes_all or bool(frappe.has_permission(DOCTYPE, "write", doc=name, user=user))

	def assignments(self, docs) -> tuple[list[str], list[list]]:
		"""Frappe's assignment of each new record to its `assigned_to`: the ToDo rows `assign_to.add`
		writes (fields, rows), so the sidebar, the Assigned To filter and the to-do list agree at once."""
		rows = new_assignment_rows([(doc.name, doc.assigned_to) for doc in docs], self.run.user, self.now)
		fields = list(rows[0]) if rows else []
		self.result.created_records.setdefault("ToDo", []).extend(row["name"] for row in rows)
		return fields, [[row[f] for f in fields] for row in rows]

	def validate(self, doc, before):
		"""The Opportunity's save rules (the same function its controller runs), after the mandatory check
		a save makes after them (an import writes no Document to make it)."""
		missing = [_(label) for fieldname, label in self.run.required if doc.get(fieldname) in (None, "")]
		if missing:
			raise RowError(_("Missing {0}").format(", ".join(missing)))
		validate_opportunity(doc, self.rules, before)  # history: a closed-lost deal without a reason too
		if (
			doc.status == "Lost"
			and not (doc.lost_reason or "").strip()
			and self.run.defaults.get("lost_reason")
		):
			doc.lost_reason = self.run.defaults["lost_reason"]

	def insert_new(self, groups: list[list]):
		docs, origins = [], []
		for group in groups:
			record = group[0][2]
			try:
				docs.append(self.build_new(record))
				origins.append(group)
			except Exception as e:  # any error of one row fails that row, never the run
				self.fail_group(group, e)
		if self.run.file.rows_make_contacts and docs:  # the cards' contacts, for the rows that passed
			made = self.make_contacts([(g[0][0], g[0][1], doc) for doc, g in zip(docs, origins, strict=True)])
			passed = {id(doc) for _n, _row, doc in made}
			pairs = [(d, g) for d, g in zip(docs, origins, strict=True) if id(d) in passed]
		else:
			pairs = list(zip(docs, origins, strict=True))
		kept = []
		for doc, group in pairs:
			try:
				self.make_row_links(doc)
				kept.append((doc, group))
			except Exception as e:
				self.fail_group(group, e)
		docs, origins = [d for d, _g in kept], [g for _d, g in kept]
		if not docs:
			return
		names = reserve_names(self.run.series_prefix, self.run.series_digits, len(docs))
		for doc, name in zip(docs, names, strict=True):
			doc.name = name
		apply_stale(docs, self.stale_after_days, self.now)  # what a save's refresh stores, in the INSERT
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
					competitors.write([doc], self.run.user, self.now)
					kept.append(doc)
					kept_origins.append(group)
				except Exception as e:
					frappe.db.rollback(save_point="opportunity_import_row")
					self.fail_group(group, _("Could not be saved: {0}").format(readable(e)))
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
			competitors.write(docs, self.run.user, self.now)
		self.add_global_search(docs)
		self.refresh_windows(docs)
		for doc, group in zip(docs, origins, strict=True):
			self.result.created += 1
			self.result.updated += len(group) - 1  # later rows of the file merged into the new record
			first = group[0][0]
			self.result.outcomes.append([first, "created", doc.name, None])
			for row_no, _row, _r in group[1:]:
				merged = _("merged into {0}, made by row {1}").format(doc.name, first)
				self.result.outcomes.append([row_no, "updated", doc.name, merged])
		self.result.created_records.setdefault(DOCTYPE, []).extend(doc.name for doc in docs)
		self.result.written.extend((doc, True, None) for doc in docs)
		tracked = self.run.tracked_fields
		self.history.extend(
			history_row(None, doc, self.now, self.run.user, "Import", tracked) for doc in docs
		)

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

	def refresh_windows(self, docs):
		"""The infix search's windows of these records (services/search.py), as a save writes them: on the
		run's search connection after their global-search rows, else in this transaction."""
		if not docs:
			return
		writer = getattr(self.run, "search_writer", None)
		if writer and not self.row_by_row:
			rows = [(doc.name, doc.get("opportunity_name")) for doc in docs]
			self.result.search_pending = writer.submit_statements(search.refresh_statements(rows))
		else:
			search.refresh([doc.name for doc in docs])

	def apply_updates(self, updates: dict[str, list]):
		if not updates:
			return
		run = self.run
		current = {
			row.name: row
			for row in frappe.get_all(DOCTYPE, filters={"name": ("in", list(updates))}, fields=["*"])
		}
		self.rules.load_line_totals([name for name, row in current.items() if row.amount_from_items])
		if competitors.FIELD in run.fields:  # the deals' competitors as stored (None: none, a Merge fills)
			rows = competitors.stored(list(current))
			for name, row in current.items():
				row[competitors.FIELD] = rows.get(name)
		searched, renamed = [], []  # their global-search rows and (name changed) windows: once per batch
		for name, contributions in updates.items():
			before = current[name]
			doc = frappe._dict(before)
			for _n, _row, record in contributions:
				combine(doc, record, overwrite=run.policy == "Overwrite")
			try:
				if not self.may_write(name):  # as Frappe's Data Import: an update needs the write right
					raise RowError(_("You may not change opportunity {0}.").format(name))
				self.validate(doc, frappe._dict(before))
				reassigned = doc.assigned_to and differs(doc.assigned_to, before.assigned_to)
				if reassigned and not self.may_read(doc.assigned_to):
					raise RowError(
						_("{0} can't read opportunities and so can't be assigned this one.").format(
							doc.assigned_to
						)
					)
				self.make_row_links(doc)
			except Exception as e:  # any error of one row fails that row, never the run
				self.fail_group(contributions, e)
				continue
			if run.file.rows_make_contacts:  # the cards' contacts, once the record has passed
				contributions = self.update_contacts(doc, contributions)
				if not contributions:
					continue
			changed = {
				f: doc.get(f)
				for f in run.insert_fields
				if f not in ("name", "creation", "owner", "modified", "modified_by")
				and differs(doc.get(f), before.get(f))
			}
			rivals_changed = competitors.names_of(doc.get(competitors.FIELD)) != competitors.names_of(
				before.get(competitors.FIELD)
			)
			if changed or rivals_changed:
				image = {f: plain(before.get(f)) for f in changed}
				if rivals_changed:  # an undo puts them back
					image[competitors.FIELD] = [
						{competitors.LINK: rival}
						for rival in competitors.names_of(before.get(competitors.FIELD))
					]
				image.update(modified=plain(before.modified), modified_by=before.modified_by)
				changed.update(modified=self.now, modified_by=run.user)
				if self.row_by_row:
					frappe.db.savepoint("opportunity_import_row")
				try:
					frappe.db.set_value(DOCTYPE, name, changed, update_modified=False)
					if rivals_changed:
						competitors.write([{**doc, "name": name}], run.user, self.now, replace=True)
					if reassigned:  # as a save does: Frappe's assignment follows assigned_to
						follow_assigned_to(name, doc.assigned_to, before.assigned_to, self.now, run.user)
				except Exception as e:
					if not self.row_by_row:
						raise
					frappe.db.rollback(save_point="opportunity_import_row")
					self.fail_group(contributions, _("Could not be saved: {0}").format(readable(e)))
					continue
				self.result.before_images.append(
					{"name": name, "modified_after": str(self.now), "before": image}
				)
				doc.name = name
				searched.append(doc)
				if "opportunity_name" in changed:
					renamed.append(doc)
				self.result.written.append((doc, False, image))
				self.history.append(
					history_row(before, doc, self.now, run.user, "Import", run.tracked_fields)
				)
			self.result.updated += len(contributions)
			how = _("overwritten") if run.policy == "Overwrite" else _("merged")
			for row_no, _row, _r in contributions:
				message = (
					_("duplicate of {0}, {1}").format(name, how)
					if changed
					else _("duplicate of {0}, no change").format(name)
				)
				self.result.outcomes.append([row_no, "updated", name, message])
		self.add_global_search(searched)
		self.refresh_windows(renamed)
