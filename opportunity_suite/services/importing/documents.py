"""New records of an import (a vCard's Contacts, their Addresses, the Organizations cards name) written a
batch at a time *as Frappe documents*: each is a `frappe.get_doc` in memory that goes through what
`Document.insert` runs before its INSERT, and only the INSERT itself is one multi-row statement per batch.

What runs, per document, as `Document.insert` runs it (`NewDocuments.prepare`; what is the same for every
document of a DocType, its meta's filtered field lists and its defaults, is worked out once per run):
- `_set_defaults`, `set_docstatus`, owner/creation/modified (`set_user_and_timestamp`'s values);
- the `before_insert`, `before_validate`, `validate` and `before_save` events: the controller's method and
  every app's `doc_events` for them (our `validate_contact_links`, `keep_card_full_name`), composed as
  `Document.hook` composes them for `Document.run_method` with the handlers looked up once per run
  (`run_event`; run_method's Notification, Webhook and Server Script steps act only where
  `per_document_reason` sends the run to `insert()`);
- `_validate()`: mandatory fields, e-mail and phone fields, selects, length, the XSS sanitizer, … on the
  document and its child rows;
- the name's own check (`validate_name`), and `get_valid_dict` gives the row `db_insert` would write.

Two controller methods read the database once per document; for them the batch runs the controller's
steps itself with the value read once per batch (`contact_validate`, `address_validate`;
`tests/test_import_vcard_batch.py` fails when Frappe's code of those methods changes):
- Contact.validate: `set_user` (the User with the contact's e-mail) and `set_link_title` (each link's
  title, from the linked record's title field);
- Address.validate: `set_link_title` (the contact's title), and `validate_preferred_address`, skipped: it
  unsets an older preferred address of the linked records, and an import links addresses only to the
  contacts it has just made.
Names come from the same rule as the DocType's autoname, a batch at a time (`tables.unique_names`).

What does not run, and why that is safe here (otherwise `per_document_reason` says why and the import
saves each document with `insert()`):
- `after_insert`, `on_update`, `on_change`: Frappe's own handlers of them act only when something is set
  up for the DocType, which `per_document_reason` checks (an Assignment Rule, Workflow, Energy Point Rule,
  Milestone Tracker, Notification, Webhook or Server Script), or on a field the import never sets (Google
  Contacts sync, attached files); any *other* app's handler for these events on the DocType (or on `*`),
  and our own alert rules on Organization when imports fire them, make the import save one by one;
- `_validate_links`: every link the import writes is a record it has just read or made (Salutation,
  Country, Organization, the contact of an address);
- permissions: checked once per batch and DocType (`may_create`), not per document;
- global search: the batch writes the rows `update_global_search` would queue (`search_entry`);
- Version rows (Contact, Address and Organization don't track changes) and follow-document (off unless
  the user follows what they create)."""

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.model.meta import Meta
from frappe.utils import cstr

from opportunity_suite.services.importing.values import match_key

RUN_EVENTS = ("before_insert", "before_validate", "validate", "before_save")  # `prepare` runs these
SKIPPED_EVENTS = ("after_insert", "on_update", "on_change")
# Frappe's own handlers of the skipped events: what makes each act (None: nothing an import sets)
FRAPPE_HANDLERS = {
	"frappe.desk.notifications.clear_doctype_notifications": None,  # run once per batch (`after_batch`)
	"frappe.workflow.doctype.workflow_action.workflow_action.process_workflow_actions": "Workflow",
	"frappe.core.doctype.file.utils.attach_files_to_document": None,  # no Attach field is set
	"frappe.automation.doctype.assignment_rule.assignment_rule.apply": "Assignment Rule",
	"frappe.automation.doctype.assignment_rule.assignment_rule.update_due_date": "Assignment Rule",
	"frappe.core.doctype.user_type.user_type.apply_permissions_for_non_standard_user_type": None,
	"frappe.social.doctype.energy_point_rule.energy_point_rule.process_energy_points": "Energy Point Rule",
	"frappe.automation.doctype.milestone_tracker.milestone_tracker.evaluate_milestone": "Milestone Tracker",
	# act only on a contact with `sync_with_google_contacts`, which validate refuses without an account
	"frappe.integrations.doctype.google_contacts.google_contacts.insert_contacts_to_google_contacts": None,
	"frappe.integrations.doctype.google_contacts.google_contacts.update_contacts_to_google_contacts": None,
}
# what is set up for a DocType that makes one of Frappe's handlers (or a save's run_method) act
SETUPS = {
	"Workflow": {"document_type": "{0}", "is_active": 1},
	"Assignment Rule": {"document_type": "{0}", "disabled": 0},
	"Energy Point Rule": {"reference_doctype": "{0}", "enabled": 1},
	"Milestone Tracker": {"document_type": "{0}", "disabled": 0},
	"Notification": {"document_type": "{0}", "enabled": 1},
	"Webhook": {"webhook_doctype": "{0}", "enabled": 1},
	"Server Script": {"reference_doctype": "{0}", "script_type": "DocType Event", "disabled": 0},
}


def per_document_reason(doctype: str, own_handlers: tuple[str, ...] = ()) -> str | None:
	"""Why new `doctype` records must be saved one by one (`insert()`), or None when the batch runs all a
	save would: a handler of an event the batch skips, or a setup that acts on a save. `own_handlers`:
	handlers of the app the caller knows are idle (e.g. alert rules while imports don't fire them)."""
	hooks = frappe.get_doc_hooks()
	for key in (doctype, "*"):
		for event in SKIPPED_EVENTS:
			for handler in hooks.get(key, {}).get(event, []):
				if handler in own_handlers:
					continue
				if handler not in FRAPPE_HANDLERS:
					return _("{0} has a {1} handler: {2}").format(_(doctype), event, handler)
	for setup, filters in SETUPS.items():
		if not frappe.db.table_exists(setup):
			continue
		filters = {k: (v.format(doctype) if isinstance(v, str) else v) for k, v in filters.items()}
		if frappe.get_all(setup, filters=filters, limit=1):
			return _("{0} has a {1}").format(_(doctype), _(setup))
	return None


def may_create(doctype: str, user: str) -> bool:
	return bool(frappe.has_permission(doctype, "create", user=user))


class NewDocuments:
	"""Prepares the new documents of a run (`prepare`): what `Document.insert` runs before its INSERT (see
	the module's docstring), with what is the same for every document of a DocType worked out once per
	run instead of once per document:

	- the DocType's meta answers `get(key, filters)` (`meta.get("fields", {"reqd": 1})` and the like,
	  which `_validate` asks for the document and each child row) from a memo (`BatchMeta`);
	- the defaults `_set_defaults` fills in come from `frappe.new_doc(..., as_dict=True)` once per DocType
	  (and table field), unless one of its defaults is worked out per document (`_set_defaults` then);
	- the events run as `Document.run_method` runs them minus what it adds for Notifications, Webhooks and
	  Server Scripts: the run prepares documents this way only when there are none for the DocType
	  (`per_document_reason`), and each of those steps does nothing then."""

	def __init__(self, user: str):
		self.user = user
		self.metas: dict[str, BatchMeta] = {}
		self.defaults: dict[tuple[str, str | None], dict | None] = {}
		self.handlers: dict[tuple[str, str], list] = {}  # (doctype, event) → its doc_events handlers

	def new(self, values: dict) -> Document:
		"""`frappe.get_doc(values)`, the document and its child rows on their DocType's `BatchMeta`."""
		doc = frappe.get_doc(values)
		self.use_batch_meta(doc)
		return doc

	def use_batch_meta(self, doc: Document):
		for d in (doc, *doc.get_all_children()):
			if d.doctype not in self.metas:
				self.metas[d.doctype] = BatchMeta.of(d.doctype)
			d.__dict__["meta"] = self.metas[d.doctype]  # BaseDocument.meta is a cached_property

	def prepare(self, doc: Document, now, validate=None, name: str | None = None):
		"""What `Document.insert` runs on `doc` before its INSERT; `validate`: the controller's validate as
		the batch runs it (`contact_validate`), else the controller's own; `name`: the document's name while
		it is validated (the batch names it for good later, `name_children` then). Raises what a save
		would raise."""
		user = self.user
		doc.set("__islocal", True)
		if name is not None:
			doc.name = name
			doc.set_parent_in_children()
		self.set_defaults(doc)
		doc.owner = doc.modified_by = user
		doc.creation = doc.modified = now
		for child in doc.get_all_children():
			child.owner = child.modified_by = user
			child.creation = child.modified = now
		doc.set_docstatus()
		doc._action = "save"
		doc._doc_before_save = None
		doc.flags.in_insert = True
		in_import = frappe.flags.in_import
		frappe.flags.in_import = True  # as Data Import: no gravatar lookup per contact
		try:
			self.run_event(doc, "before_insert")
			self.run_event(doc, "before_validate")
			# with `validate`: the controller's steps with the batch's lookups, then every app's handlers
			self.run_event(doc, "validate", validate)
			self.run_event(doc, "before_save")
			doc.set_title_field()
			doc._validate()
		finally:
			frappe.flags.in_import = in_import
			doc.flags.in_insert = False

	def run_event(self, doc: Document, event: str, method=None):
		"""`doc.run_method(event)` as `Document.hook` composes it: the controller's method (or `method`),
		then each `doc_events` handler of the DocType and of `*`, in hooks order, called `(doc, event)`.
		The handlers are looked up once per run and DocType (`Document.hook` resolves them again for every
		call, ~30 µs a document); the return values, which `hook` collects and `prepare` ignores, are
		dropped (`test_import_vcard_batch.py` fails when Frappe's `Document.hook` changes)."""
		key = (doc.doctype, event)
		handlers = self.handlers.get(key)
		if handlers is None:
			doc_events = frappe.get_doc_hooks()
			handlers = self.handlers[key] = [
				frappe.get_attr(handler)
				for handler in doc_events.get(doc.doctype, {}).get(event, [])
				+ doc_events.get("*", {}).get(event, [])
			]
		if method is None:
			_controller_method(event)(doc)
		else:
			method(doc)
		for handler in handlers:
			handler(doc, event)

	def set_defaults(self, doc: Document):
		"""`Document._set_defaults` (Frappe v15) with `frappe.new_doc`'s defaults of each DocType worked
		out once (`tests/test_import_vcard_batch.py` fails when Frappe's code of it changes)."""
		if frappe.flags.in_import:
			return
		defaults = self._defaults(doc.doctype)
		if defaults is None:  # a default worked out per document: Frappe's own
			doc._set_defaults()
			return
		if doc.is_new():
			doc.update_if_missing(defaults)
		for df in doc.meta.get_table_fields():
			defaults = self._defaults(df.options, df.fieldname)
			value = doc.get(df.fieldname)
			if isinstance(value, list):
				for d in value:
					if d.is_new():
						d.update_if_missing(defaults)

	def _defaults(self, doctype: str, parentfield: str | None = None) -> dict | None:
		"""The values `frappe.new_doc` starts a `doctype` document with, or None when `new_doc` works one
		of them out per document (`set_dynamic_default_values`: a default from another record, `now`, the
		time); for a DocType with tables, None when one of its tables' DocTypes does."""
		key = (doctype, parentfield)
		if key not in self.defaults:
			meta = frappe.get_meta(doctype)
			dynamic = any(
				cstr(df.get("default")).startswith(":")
				or (df.fieldtype == "Datetime" and cstr(df.get("default")).lower() == "now")
				or df.fieldtype == "Time"
				for df in meta.fields
			)
			if not dynamic and parentfield is None:
				dynamic = any(
					self._defaults(df.options, df.fieldname) is None for df in meta.get_table_fields()
				)
			self.defaults[key] = (
				None if dynamic else frappe.new_doc(doctype, parentfield=parentfield, as_dict=True)
			)
		return self.defaults[key]


def _controller_method(event: str):
	"""`run_method`'s inner function for `event`: the controller's method of that name, if any."""

	def fn(self, *args, **kwargs):
		method = getattr(self, event, None)
		if event in self.__dict__ or callable(method):
			return method(*args, **kwargs)

	fn.__name__ = event
	return fn


class BatchMeta(Meta):
	"""A DocType's meta (a copy of `frappe.get_meta`'s) that works out each `get(key, filters)` once: the
	same list of fields, filtered the same way by Frappe's `_filter`, for every document of the run."""

	@classmethod
	def of(cls, doctype: str) -> "BatchMeta":
		meta = frappe.get_meta(doctype)
		batch_meta = cls.__new__(cls)
		batch_meta.__dict__.update(meta.__dict__)
		batch_meta.__dict__["_filtered"] = {}
		return batch_meta

	def get(self, key, filters=None, limit=None, default=None):
		if isinstance(key, str) and isinstance(filters, dict) and not limit:
			# by the filters' text: `{"reqd": True}` and `{"reqd": 1}` hash alike but Meta filters them apart
			memo_key = (key, repr(filters))
			found = self._filtered.get(memo_key)
			if found is None:
				found = self._filtered[memo_key] = super().get(key, filters)
			return list(found)  # a list of its own: a caller may append to it (get_global_search_fields)
		return super().get(key, filters, limit, default)


def name_children(doc: Document):
	"""Child rows' names and parents, as `set_new_name` and `set_parent_in_children` set them."""
	doc.set_parent_in_children()
	for child in doc.get_all_children():
		if not child.name:
			child.name = frappe.generate_hash(length=10)


def rows_of(docs: list[Document]) -> dict[str, tuple[list[str], list[list]]]:
	"""doctype → (columns, rows) for one multi-row INSERT each: the rows `db_insert` writes."""
	out: dict[str, tuple[list[str], list[list]]] = {}
	for doc in docs:
		for d in (doc, *doc.get_all_children()):
			values = d.get_valid_dict(convert_dates_to_str=True, ignore_virtual=True)
			if d.doctype not in out:
				out[d.doctype] = (list(values), [])
			columns, rows = out[d.doctype]
			rows.append([values.get(c) for c in columns])
	return out


def search_entry(doc: Document) -> tuple | None:
	"""The `__global_search` row (doctype, name, content, published, title, route) that Frappe's
	`update_global_search` makes of a saved `doc`, or None when it makes none."""
	from frappe.model import table_fields
	from frappe.utils.global_search import get_formatted_value

	if doc.docstatus > 1 or (doc.meta.has_field("enabled") and not doc.get("enabled")) or doc.get("disabled"):
		return None
	content = [
		get_formatted_value(doc.get(df.fieldname), df)
		for df in doc.meta.get_global_search_fields()
		if doc.get(df.fieldname) and df.fieldtype not in table_fields
	]
	for table in doc.meta.get_table_fields():
		for child in doc.get(table.fieldname):
			if child.parent == doc.name:
				content.extend(
					get_formatted_value(child.get(df.fieldname), df)
					for df in child.meta.get_global_search_fields()
					if child.get(df.fieldname)
				)
	if not content:
		return None
	published = 0
	if hasattr(doc, "is_website_published") and doc.meta.allow_guest_to_view:
		published = 1 if doc.is_website_published() else 0
	title = (cstr(doc.get_title()) or "")[: int(frappe.db.VARCHAR_LEN)]
	return (doc.doctype, doc.name, " ||| ".join(content), published, title, doc.get("route") or "")


def after_batch(docs: list[Document]):
	"""What a save does once that the batch does once per DocType: clear the desk's notification counts."""
	from frappe.desk.notifications import clear_doctype_notifications

	for doctype in dict.fromkeys(d.doctype for d in docs):
		clear_doctype_notifications(next(d for d in docs if d.doctype == doctype))


# ---------------------------------------------------------------- the two controllers' lookups


class Lookups:
	"""What Contact's and Address's validate read per document, read once for a batch."""

	def __init__(self):
		self.users: dict[str, str] = {}  # match key of an e-mail → the User with it
		self.titles: dict[tuple[str, str], str] = {}  # (doctype, name) → its title

	def load_users(self, emails: list[str]):
		emails = [e for e in dict.fromkeys(emails) if e]
		for start in range(0, len(emails), 1000):
			for row in frappe.get_all(
				"User",
				{"email": ("in", emails[start : start + 1000])},
				["name", "email"],
				order_by="creation",
			):
				self.users.setdefault(match_key(row.email), row.name)

	def load_titles(self, doctype: str, names: list[str]):
		field = frappe.get_meta(doctype).get_title_field()
		names = [n for n in dict.fromkeys(names) if n and (doctype, n) not in self.titles]
		for start in range(0, len(names), 1000):
			for row in frappe.get_all(
				doctype, {"name": ("in", names[start : start + 1000])}, ["name", f"`{field}` as title"]
			):
				self.titles[(doctype, row.name)] = row.title

	def link_title(self, doc, link):
		"""set_link_title's step for one link: the linked record's title."""
		title = self.titles.get((link.link_doctype, link.link_name)) or ""
		if link.link_title != title:
			link.link_title = title or link.link_name


def contact_validate(lookups: Lookups):
	"""Contact.validate (Frappe v15) step by step, its two lookups from `lookups`."""
	from frappe.core.doctype.dynamic_link.dynamic_link import deduplicate_dynamic_links
	from frappe.utils import has_gravatar

	def validate(doc):
		doc.full_name = doc._get_full_name()
		doc.set_primary_email()
		doc.set_primary("phone")
		doc.set_primary("mobile_no")
		if not doc.user and doc.email_id:  # set_user
			doc.user = lookups.users.get(match_key(doc.email_id))
		for link in doc.links or []:  # set_link_title
			lookups.link_title(doc, link)
		if doc.email_id and not doc.image:
			doc.image = has_gravatar(doc.email_id)
		if doc.get("sync_with_google_contacts") and not doc.get("google_contacts"):
			frappe.throw(_("Select Google Contacts to which contact should be synced."))
		deduplicate_dynamic_links(doc)

	return validate


def address_validate(lookups: Lookups):
	"""Address.validate (Frappe v15) step by step: link_address, set_link_title from `lookups` (a title
	known before the linked record is written: `lookups.titles`), deduplicate; validate_preferred_address
	skipped (see the module's docstring)."""
	from frappe.core.doctype.dynamic_link.dynamic_link import deduplicate_dynamic_links

	def validate(doc):
		doc.link_address()
		for link in doc.links or []:
			lookups.link_title(doc, link)
		deduplicate_dynamic_links(doc)

	return validate
