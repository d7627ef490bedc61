# ruff: noqa: F811 (the cleanup fixture is imported, then used as an argument)
"""A vCard import's contacts written a batch at a time (`services/importing/documents.py`) store what
`insert()` of the same contacts stores, field by field; a site with a handler the batch doesn't run
(another app's `after_insert` on Contact) gets one `insert()` per contact instead; and the two Frappe
methods the batch runs step by step are still the ones it was written from."""

import hashlib
import inspect
import sys
import types
from contextlib import contextmanager

import frappe
import pytest
from frappe.utils.global_search import sync_global_search

from opportunity_suite.services.importing import documents
from tests.import_fixtures import cleanup  # noqa: F401
from tests.test_import_vcard import contact_of, created, imported

SKIP = {"name", "creation", "modified", "parent", "owner", "modified_by"}
INSERTED: list[str] = []
HANDLERS = "opportunity_suite.another_apps_handlers"  # made in the test, never a file


def record_insert(doc, method=None):
	"""An `after_insert` handler on Contact, as another app's hooks.py would declare it."""
	INSERTED.append(doc.name)


@contextmanager
def other_apps_handler():
	"""This process's doc_events with one more Contact handler (what `frappe.get_doc_hooks` reads from
	every app's hooks.py), restored afterwards."""
	# Frappe runs handlers of installed apps only: the handler as a module of one (in this process)
	module = types.ModuleType(HANDLERS)
	module.record_insert = record_insert
	sys.modules[HANDLERS] = module
	saved = frappe.get_doc_hooks()
	changed = {k: {e: list(h) for e, h in v.items()} for k, v in saved.items()}
	changed.setdefault("Contact", {}).setdefault("after_insert", []).append(f"{HANDLERS}.record_insert")
	frappe.local.doc_events_hooks = changed
	INSERTED.clear()
	try:
		yield
	finally:
		frappe.local.doc_events_hooks = saved
		sys.modules.pop(HANDLERS, None)


def stored(batches, tag: str) -> dict:
	"""What the run's contact and its addresses are in the database (child rows field by field, global
	search rows), the run's tag replaced."""

	def plain(value):
		if isinstance(value, str):
			return value.replace(tag, "TAG")
		return str(value) if value is not None and not isinstance(value, (int, float)) else value

	def row(doc) -> dict:
		out = {}
		for key, value in doc.as_dict(convert_dates_to_str=True).items():
			if key in SKIP:
				continue
			if isinstance(value, list):  # child rows, each field by field
				out[key] = [{k: plain(v) for k, v in child.items() if k not in SKIP} for child in value]
			else:
				out[key] = plain(value)
		return out

	contact = contact_of(batches)
	addresses = created(batches, "Address")
	out = {"names": [contact.name, *addresses], "Contact": row(contact)}
	for i, address in enumerate(addresses):
		out[f"Address{i}"] = row(frappe.get_doc("Address", address))
	sync_global_search()  # what insert() queued for Frappe's scheduler
	for doctype, name in [("Contact", contact.name)] + [("Address", a) for a in addresses]:
		rows = frappe.db.sql(
			"SELECT `content`, `title` FROM `__global_search` WHERE `doctype` = %s AND `name` = %s",
			(doctype, name),
		)
		out[f"search {doctype} {name}"] = [plain(v) for r in rows for v in r]
	return out


def forget(batches):
	"""Delete the run's contact and addresses, so that the next run's get the same names."""
	for doctype in ("Contact", "Address"):
		for name in created(batches, doctype):
			frappe.db.delete("Dynamic Link", {"parenttype": doctype, "parent": name})
			if doctype == "Contact":
				frappe.db.delete("Contact Email", {"parent": name})
				frappe.db.delete("Contact Phone", {"parent": name})
			frappe.db.delete(doctype, {"name": name})
			frappe.db.delete("__global_search", {"doctype": doctype, "name": name})
	frappe.db.commit()


@pytest.mark.parametrize("name", ["full-card.vcf", "bad-values.vcf"])
def test_the_batch_stores_what_insert_stores(cleanup, name):
	assert documents.per_document_reason("Contact") is None
	sync_global_search()  # what earlier saves queued (a name this test's records may get) is in first
	doc, batch_run, batch_tag = imported(cleanup, name)  # the batch: multi-row INSERTs
	by_batch = stored(batch_run, batch_tag)
	forget(batch_run)
	with other_apps_handler():
		assert "after_insert" in documents.per_document_reason("Contact")
		doc2, insert_run, insert_tag = imported(cleanup, name)  # one insert() each
		assert INSERTED and sorted(INSERTED) == sorted(created(insert_run, "Contact")), insert_run.results
	by_insert = stored(insert_run, insert_tag)
	assert (doc.created_count, doc.failed_count) == (doc2.created_count, doc2.failed_count)
	assert by_batch.keys() == by_insert.keys()
	assert by_batch[f"search Contact {by_batch['names'][0]}"]  # global search rows, compared too
	for key in by_batch:
		assert by_batch[key] == by_insert[key], key
	# the warnings on the row are the same on both paths
	assert [r["Reason or Warnings"] for r in batch_run.results.values()] == [
		r["Reason or Warnings"].replace(insert_tag, batch_tag) for r in insert_run.results.values()
	]


def test_the_controller_code_the_batch_runs_step_by_step_is_unchanged():
	"""`documents.contact_validate` and `address_validate` are Frappe v15's Contact.validate and
	Address.validate with their lookups read per batch; `NewDocuments.set_defaults` is
	`Document._set_defaults` with `new_doc`'s defaults read once (`set_dynamic_default_values` says which
	are worked out per document), and its events are `run_method`'s without the Notification, Webhook and
	Server Script steps, composed as `Document.hook` composes them (`NewDocuments.run_event`). When Frappe
	changes them, this fails: bring the steps in documents.py up to date, then the hashes here."""
	from frappe.contacts import address_and_contact
	from frappe.contacts.doctype.address.address import Address
	from frappe.contacts.doctype.contact.contact import Contact
	from frappe.model import create_new
	from frappe.model.document import Document

	def digest(function) -> str:
		return hashlib.sha1(inspect.getsource(function).encode()).hexdigest()[:12]

	assert {
		"Contact.validate": digest(Contact.validate),
		"Contact.set_user": digest(Contact.set_user),
		"Address.validate": digest(Address.validate),
		"set_link_title": digest(address_and_contact.set_link_title),
		"Document._set_defaults": digest(Document._set_defaults),
		"set_dynamic_default_values": digest(create_new.set_dynamic_default_values),
		"Document.run_method": digest(Document.run_method),
		"Document.hook": digest(Document.hook),
	} == {
		"Contact.validate": "90b103d1511e",
		"Contact.set_user": "5efb8a7aa1ff",
		"Address.validate": "bb4ea594b538",
		"set_link_title": "5be245955920",
		"Document._set_defaults": "49b9383e3763",
		"set_dynamic_default_values": "d54d615f0304",
		"Document.run_method": "062442812773",
		"Document.hook": "c8789f454ce9",
	}


def test_run_event_runs_what_run_method_runs_in_its_order():
	"""`NewDocuments.run_event` (handlers looked up once per run) calls the controller's method, then every
	app's handlers of the DocType and of `*`, in the order `Document.run_method` calls them."""
	calls = []
	module = types.ModuleType(HANDLERS)
	module.first = lambda doc, method=None: calls.append(("first", doc.doctype, method))
	module.second = lambda doc, method=None: calls.append(("second", doc.doctype, method))
	module.everywhere = lambda doc, method=None: calls.append(("*", doc.doctype, method))
	sys.modules[HANDLERS] = module
	saved = frappe.get_doc_hooks()
	changed = {k: {e: list(h) for e, h in v.items()} for k, v in saved.items()}
	changed.setdefault("Contact", {}).setdefault("before_save", []).extend(
		[f"{HANDLERS}.first", f"{HANDLERS}.second"]
	)
	changed.setdefault("*", {}).setdefault("before_save", []).append(f"{HANDLERS}.everywhere")
	frappe.local.doc_events_hooks = changed
	try:
		doc = frappe.get_doc({"doctype": "Contact", "first_name": "Order"})
		doc.before_save = lambda: calls.append(("controller", doc.doctype, None))
		doc.run_method("before_save")
		by_run_method = list(calls)
		calls.clear()
		documents.NewDocuments("Administrator").run_event(doc, "before_save")
	finally:
		frappe.local.doc_events_hooks = saved
		sys.modules.pop(HANDLERS, None)
	assert by_run_method == [
		("controller", "Contact", None),
		("first", "Contact", "before_save"),
		("second", "Contact", "before_save"),
		("*", "Contact", "before_save"),
	]
	assert calls == by_run_method


@pytest.mark.parametrize("doctype", ["Contact", "Contact Email", "Address"])
def test_the_batch_meta_answers_each_filter_as_the_meta(doctype):
	"""`BatchMeta.get`'s memo gives what `Meta.get` gives, for filters like those `_validate` asks, each
	asked twice; filters that hash alike but that Meta tells apart (`True` and `1`) stay apart."""
	meta = frappe.get_meta(doctype)
	batch_meta = documents.BatchMeta.of(doctype)
	asks = [
		{"reqd": 1},
		{"reqd": True},
		{"fieldtype": "Data"},
		{"fieldtype": ("in", ["Data", "Link", "Select"])},
		{"non_negative": ("=", 1), "fieldtype": ("in", ["Int", "Float", "Currency"])},
		{"fieldtype": ("in", ("Text Editor", "HTML Editor"))},
		{"options": "Email"},
		{"fieldtype": "Select", "reqd": 0},
	]
	for _round in (1, 2):
		for filters in asks:
			expected = [df.fieldname for df in meta.get("fields", filters)]
			assert [df.fieldname for df in batch_meta.get("fields", filters)] == expected, filters
	got = batch_meta.get("fields", {"reqd": 1})
	got.append("not the memo's")  # a list of its own each time
	assert "not the memo's" not in batch_meta.get("fields", {"reqd": 1})
