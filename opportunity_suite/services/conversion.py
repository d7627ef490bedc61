"""Convert an opportunity into a project, once, in one transaction.

1. The opportunity's row is locked (SELECT ... FOR UPDATE) and its `project` read under the lock: a second
   conversion, at once or later, waits for the first and then finds it done ("already converted to
   PROJ-…"). `Project.opportunity` is unique as the last line of defence (e.g. a project made by hand for
   the opportunity): that duplicate becomes the same answer.
2. The project is built with `get_mapped_doc` from the Project Mapping rows. get_mapped_doc copies every
   same-named field by itself (and fills a Link to Opportunity), so every project field no row targets is
   in `field_no_map`: a removed row leaves its project field empty (or at its DocType default). An empty
   status or start date takes FALLBACK_DEFAULTS (Open, today); any other empty required project field
   stops the conversion with a message naming it.
3. The opportunity's records are linked to the project too, whoever owns them and whether or not the
   converting user may read them (the caller checked the user's rights first): quotes and sales orders get
   `project`; events get a second Event Participants row; to-dos and files are duplicated for the project
   (a duplicated File row shares the stored file); comments are copied keeping author and date. The
   opportunity keeps all of its own.
4. The opportunity gets `project` and `converted_on`.

Everything happens after a savepoint: any failure rolls back to it (no project, no link, no copy) and
re-raises; an outer transaction is left as it was."""

import frappe
from frappe import _
from frappe.core.doctype.comment.comment import update_comment_in_doc
from frappe.model import no_value_fields
from frappe.model.document import Document
from frappe.model.mapper import get_mapped_doc
from frappe.query_builder.functions import Max
from frappe.utils import cstr, get_datetime, now_datetime, today

from opportunity_suite.services.project_mapping import TEXT_TARGETS, get_mapping_rows

SOURCE = "Opportunity"
TARGET = "Project"
SAVEPOINT = "opportunity_suite_project_conversion"
SALES_DOCUMENTS = ("Quote", "Sales Order")
# what an empty project field takes when no mapping row fills it
FALLBACK_DEFAULTS = {"status": lambda: "Open", "start_date": today}


class ConversionError(frappe.ValidationError):
	pass


class AlreadyConvertedError(ConversionError):
	http_status_code = 409


class NotWonError(ConversionError):
	pass


# ---------------------------------------------------------------- state and rights


def existing_project(opportunity: str, for_update: bool = False) -> str | None:
	"""The project converted from (or made by hand for) the opportunity, if any."""
	project = frappe.db.get_value(SOURCE, opportunity, "project", for_update=for_update)
	return project or frappe.db.get_value(TARGET, {"opportunity": opportunity}, "name", for_update=for_update)


def linked_sales_documents(opportunity: str) -> dict[str, int]:
	"""How many quotes / sales orders of the opportunity there are (all of them, whoever may read them)."""
	counts = {}
	for doctype in SALES_DOCUMENTS:
		counts[doctype] = frappe.db.count(doctype, {"opportunity": opportunity})
	return counts


def missing_rights(opportunity: str, user: str | None = None) -> list[str]:
	"""What the user lacks to convert the opportunity, as translated sentences (empty: nothing)."""
	user = user or frappe.session.user
	missing = []
	if not frappe.has_permission(SOURCE, "write", doc=opportunity, user=user):
		missing.append(_("write access to opportunity {0}").format(opportunity))
	if not frappe.has_permission(TARGET, "create", user=user):
		missing.append(_("the right to create projects"))
	for doctype, count in linked_sales_documents(opportunity).items():
		if count and not frappe.has_permission(doctype, "write", user=user):
			missing.append(_("write access to {0} (the opportunity has {1})").format(_(doctype), count))
	return missing


def check_rights(opportunity: str):
	missing = missing_rights(opportunity)
	if missing:
		frappe.throw(
			_("You cannot convert {0} to a project: you need {1}.").format(opportunity, "; ".join(missing)),
			exc=frappe.PermissionError,
		)


def won_only() -> bool:
	return bool(frappe.db.get_single_value("Opportunity Settings", "convert_only_won", cache=False))


def conversion_state(opportunity: str) -> dict:
	"""What the opportunity form needs: the project it was converted to, and whether the session user may
	convert it now (with the reason when not)."""
	project = existing_project(opportunity)
	reason = None
	if project:
		reason = _("Already converted to {0}.").format(project)
	else:
		missing = missing_rights(opportunity)
		if missing:
			reason = _("You need {0}.").format("; ".join(missing))
		elif won_only() and frappe.db.get_value(SOURCE, opportunity, "status") != "Won":
			reason = _("Only opportunities in a Won stage can be converted (Opportunity Settings).")
	return {
		"project": project,
		"converted_on": frappe.db.get_value(SOURCE, opportunity, "converted_on"),
		"can_convert": reason is None,
		"reason": reason,
	}


# ---------------------------------------------------------------- the conversion


def _already_converted(opportunity: str, project: str | None):
	frappe.throw(
		_("Opportunity {0} is already converted to {1}.").format(opportunity, project or _("a project")),
		exc=AlreadyConvertedError,
		title=_("Already Converted"),
	)


def lock_opportunity(opportunity: str) -> frappe._dict:
	"""Lock the opportunity's row for this transaction; return what the conversion needs, read under the
	lock (a conversion that committed meanwhile is seen)."""
	row = frappe.db.get_value(
		SOURCE, opportunity, ["name", "project", "status", "sales_stage"], as_dict=True, for_update=True
	)
	if not row:
		frappe.throw(_("Opportunity {0} not found.").format(opportunity), exc=frappe.DoesNotExistError)
	return row


def assert_convertible(row: frappe._dict):
	if row.project:
		_already_converted(row.name, row.project)
	if won_only() and row.status != "Won":
		frappe.throw(
			_(
				"Opportunity {0} is in stage {1}: only opportunities in a Won stage can be converted to a "
				"project (Opportunity Settings)."
			).format(row.name, row.sales_stage),
			exc=NotWonError,
		)


def build_project(opportunity: str) -> Document:
	"""The unsaved project, mapped from the opportunity through the Project Mapping."""
	rows = get_mapping_rows()
	meta = frappe.get_meta(TARGET)
	mapped = {target for _source, target in rows}
	field_no_map = [df.fieldname for df in meta.fields if df.fieldname not in mapped]

	def postprocess(source, target):
		target.opportunity = source.name
		for source_field, target_field in rows:
			value = source.get(source_field)
			# a number, date or link copied into a text field is stored as its text
			if value not in (None, "") and meta.get_field(target_field).fieldtype in TEXT_TARGETS:
				target.set(target_field, cstr(value))
		fill_required(target, {target_field: source_field for source_field, target_field in rows})

	return get_mapped_doc(
		SOURCE,
		opportunity,
		{SOURCE: {"doctype": TARGET, "field_map": [list(row) for row in rows], "field_no_map": field_no_map}},
		postprocess=postprocess,
		ignore_permissions=True,
		ignore_child_tables=True,
	)


def fill_required(project: Document, source_of: dict[str, str]):
	"""Empty project fields with a fallback default (status, start date) take it; any other empty required
	field stops the conversion with a message naming it (and the opportunity field mapped into it, if any)."""
	for df in project.meta.fields:
		if df.fieldtype in no_value_fields or project.get(df.fieldname) not in (None, ""):
			continue
		if df.fieldname in FALLBACK_DEFAULTS:
			project.set(df.fieldname, FALLBACK_DEFAULTS[df.fieldname]())
		elif df.reqd:
			label = frappe.bold(_(df.label or df.fieldname))
			if df.fieldname in source_of:
				source_df = frappe.get_meta(SOURCE).get_field(source_of[df.fieldname])
				message = _("The project's {0} is required: fill the opportunity's {1} first.").format(
					label, frappe.bold(_(source_df.label or source_df.fieldname))
				)
			else:
				message = _(
					"The project's {0} is required, but no Project Mapping row fills it and it has no "
					"default: add a row for it in Project Mapping."
				).format(label)
			frappe.throw(message, exc=ConversionError, title=_("Cannot Convert"))


def insert_project(project: Document, opportunity: str):
	try:
		project.insert(ignore_permissions=True)
	except frappe.UniqueValidationError:
		# Project.opportunity is unique: another project already points at this opportunity
		existing = frappe.db.get_value(TARGET, {"opportunity": opportunity}, "name", for_update=True)
		if not existing:
			raise
		frappe.clear_last_message()  # Frappe's "Opportunity must be unique"
		_already_converted(opportunity, existing)


def link_sales_documents(opportunity: str, project: str):
	"""Quotes and sales orders of the opportunity get the project (those without one yet).

	A set-based UPDATE, not doc.save(): `project` is a read-only link only this conversion sets; saving
	each document would re-run its validation (totals, status rules) for records the user may not even be
	able to read, and could fail on their unrelated data."""
	for doctype in SALES_DOCUMENTS:
		table = frappe.qb.DocType(doctype)
		(
			frappe.qb.update(table)
			.set(table.project, project)
			.set(table.modified, now_datetime())
			.set(table.modified_by, frappe.session.user)
			.where(table.opportunity == opportunity)
			.where(table.project.isnull() | (table.project == ""))
		).run()


def link_events(opportunity: str, project: str):
	"""Every event with the opportunity among its participants gets the project as a participant too.

	The child row is inserted on its own rather than through event.save(): saving another user's private
	event would re-run its validation and calendar sync and stamp it as modified by the converting user."""
	participants = frappe.qb.DocType("Event Participants")
	events = (
		frappe.qb.from_(participants)
		.select(participants.parent)
		.distinct()
		.where(participants.parenttype == "Event")
		.where(participants.reference_doctype == SOURCE)
		.where(participants.reference_docname == opportunity)
	).run(pluck=True)
	if not events:
		return
	last_idx = dict(
		(
			frappe.qb.from_(participants)
			.select(participants.parent, Max(participants.idx))
			.where(participants.parenttype == "Event")
			.where(participants.parent.isin(events))
			.groupby(participants.parent)
		).run()
	)
	for event in sorted(events):
		frappe.get_doc(
			{
				"doctype": "Event Participants",
				"parent": event,
				"parenttype": "Event",
				"parentfield": "event_participants",
				"idx": (last_idx.get(event) or 0) + 1,
				"reference_doctype": TARGET,
				"reference_docname": project,
			}
		).db_insert()


def _keep_origin(doctype: str, name: str, original: Document, **extra):
	"""Frappe's insert stamps owner and creation with the converting user and now: put the original's back."""
	frappe.db.set_value(
		doctype,
		name,
		{"owner": original.owner, "creation": original.creation, **extra},
		update_modified=False,
	)


def copy_todos(opportunity: str, project: str):
	"""Each to-do of the opportunity (open or not, whoever it is assigned to) gets a twin on the project."""
	names = frappe.get_all(
		"ToDo",
		filters={"reference_type": SOURCE, "reference_name": opportunity},
		order_by="creation asc",
		pluck="name",
	)
	for name in names:
		original = frappe.get_doc("ToDo", name)
		todo = frappe.copy_doc(original)
		todo.reference_type = TARGET
		todo.reference_name = project
		todo.insert(ignore_permissions=True)
		_keep_origin("ToDo", todo.name, original)


def copy_files(opportunity: str, project: str):
	"""Each file attached to the opportunity is attached to the project too: a second File row pointing at
	the same stored file (File.before_insert finds the existing file by its content hash and reuses its URL
	instead of writing a copy; on a rollback the shared file is kept because the original row still uses
	it)."""
	names = frappe.get_all(
		"File",
		filters={"attached_to_doctype": SOURCE, "attached_to_name": opportunity, "is_folder": 0},
		order_by="creation asc",
		pluck="name",
	)
	for name in names:
		original = frappe.get_doc("File", name)
		copy = frappe.get_doc(
			{
				"doctype": "File",
				"file_name": original.file_name,
				"file_url": original.file_url,
				"is_private": original.is_private,
				"attached_to_doctype": TARGET,
				"attached_to_name": project,
			}
		)
		copy.insert(ignore_permissions=True)
		extra = {"file_url": original.file_url} if copy.file_url != original.file_url else {}
		_keep_origin("File", copy.name, original, **extra)


COMMENT_FIELDS = (
	"comment_type",
	"comment_email",
	"comment_by",
	"subject",
	"content",
	"published",
	"seen",
	"ip_address",
	"owner",
	"creation",
	"modified",
	"modified_by",
)


def copy_comments(opportunity: str, project: str, project_owner: str):
	"""The opportunity's comments are copied to the project's timeline with their author and date.

	Written with db_insert, not insert(): insert would stamp them as the converting user's and now, and its
	after_insert would notify anyone @mentioned again — through a job queued at once, which a rollback
	could not take back. The content was sanitised when the comment was first saved."""
	comments = frappe.get_all(
		"Comment",
		filters={"reference_doctype": SOURCE, "reference_name": opportunity, "comment_type": "Comment"},
		fields=list(COMMENT_FIELDS),
		order_by="creation asc",
	)
	for original in comments:
		comment = frappe.new_doc("Comment")
		comment.update(original)
		comment.reference_doctype = TARGET
		comment.reference_name = project
		comment.reference_owner = project_owner
		comment.db_insert()
		update_comment_in_doc(comment)  # the project's `_comments` summary, as insert would


CONVERSION_FIELDS = ("project", "converted_on")


def protect_conversion_fields(doc: Document | dict, before=None):
	"""The opportunity's `project` and `converted_on` are the conversion's to set (they are read-only in the
	form, but a REST or import caller could send them): any other change is refused. `doc` is a Document
	(`before` defaults to it before this save) or an import's row of values (`before`: the stored row)."""
	flags = getattr(doc, "flags", None)
	if flags and flags.converting_to_project:
		return
	if before is None and isinstance(doc, Document):
		before = doc.get_doc_before_save()
	if before is None and not any(doc.get(fieldname) for fieldname in CONVERSION_FIELDS):
		return  # a new record that sets neither (every import row: neither is importable)
	for fieldname in CONVERSION_FIELDS:
		old, new = before.get(fieldname) if before else None, doc.get(fieldname)
		if fieldname == "converted_on":
			old, new = (get_datetime(value) if value else None for value in (old, new))
		if (old or None) != (new or None):
			frappe.throw(
				_("{0} is set by Convert to Project only.").format(
					_(frappe.get_meta(SOURCE).get_label(fieldname))
				),
				exc=ConversionError,
			)


def mark_converted(opportunity: str, project: str):
	doc = frappe.get_doc(SOURCE, opportunity)
	doc.project = project
	doc.converted_on = now_datetime()
	doc.flags.converting_to_project = True
	doc.save(ignore_permissions=True)


def _convert(opportunity: str) -> str:
	assert_convertible(lock_opportunity(opportunity))
	project = build_project(opportunity)
	insert_project(project, opportunity)
	link_sales_documents(opportunity, project.name)
	link_events(opportunity, project.name)
	copy_todos(opportunity, project.name)
	copy_files(opportunity, project.name)
	copy_comments(opportunity, project.name, project.owner)
	mark_converted(opportunity, project.name)
	return project.name


def convert_to_project(opportunity: str) -> str:
	"""Convert the opportunity; returns the new project's name. Raises and leaves nothing behind on
	failure. The caller checks the user's rights (check_rights) first."""
	frappe.db.savepoint(SAVEPOINT)
	try:
		project = _convert(opportunity)
	except Exception:
		try:
			frappe.db.rollback(save_point=SAVEPOINT)
		except Exception:
			# a deadlock rolls the whole transaction back and drops the savepoint with it
			frappe.db.rollback()
		raise
	frappe.db.release_savepoint(SAVEPOINT)
	return project
