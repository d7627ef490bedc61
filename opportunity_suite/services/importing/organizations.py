"""The organizations an import names: matched the way the database compares names (any case, trailing
spaces ignored; by name or organization name), and the missing ones created once each, in file order,
when the import asks for it ("Create Missing Organizations", always for a vCard's ORG) and the importing
user may create organizations. A later batch finds what an earlier one created. What a run creates is
recorded in its batch checkpoint, so undo removes exactly those."""

from collections.abc import Iterable

import frappe
from frappe import _

from opportunity_suite.services.importing.common import readable
from opportunity_suite.services.importing.values import match_key

ORGANIZATION = "Organization"
# the app's own handlers of events a batch doesn't run: alert rules, idle while imports don't fire them
OWN_HANDLERS = ("opportunity_suite.events.alerts.after_insert", "opportunity_suite.events.alerts.on_update")


def existing(names: list[str]) -> dict[str, str]:
	"""match key → name of the organization called `name` (its name or its organization name). A name
	with characters an ID can't hold (`<svg onload=…> Ltd`) also finds the organization a save of it made,
	by that ID (`safe_names.organization_id`): a later batch, or run, doesn't make it again."""
	from opportunity_suite.services.safe_names import has_unsafe_characters, organization_id

	found = {}
	by_id: dict[str, list[str]] = {}  # match key of an unsafe name's ID → match keys of those names
	for name in names:
		if has_unsafe_characters(name):
			by_id.setdefault(match_key(organization_id(name)), []).append(match_key(name))
	lookups = {"name": [*names, *(organization_id(n) for n in names if has_unsafe_characters(n))]}
	lookups["organization_name"] = names
	for field, wanted in lookups.items():
		for row in frappe.get_all(
			ORGANIZATION,
			filters={field: ("in", wanted)},
			fields=["name", "organization_name"],
			order_by="creation",
		):
			found.setdefault(match_key(row.name), row.name)
			found.setdefault(match_key(row.organization_name), row.name)
			for key in by_id.get(match_key(row.name), ()):
				found.setdefault(key, row.name)
	return found


def creation_refused(user: str, user_permissions: dict) -> str | None:
	"""Why `user` may not create organizations in an import (a message with `{0}` for the name), or None."""
	if not frappe.has_permission(ORGANIZATION, "create", user=user):
		return _("Organization {0} does not exist, and you may not create organizations.")
	if ORGANIZATION in user_permissions:
		# a new organization would not be among those the user's permissions allow on an opportunity
		return _(
			"Organization {0} does not exist, and your user permissions allow only certain organizations."
		)
	return None


def ensure(writer, names: Iterable[str], create: bool) -> dict[str, str]:
	"""match key → Organization for `names`; with `create`, the missing ones are created (once each) when
	the user may. Those that can't be had get their reason in the batch's `organization_errors`."""
	names = [n for n in dict.fromkeys(names) if n]
	if not names:
		return {}
	found = existing(names)
	if not create:
		return found
	errors = organization_errors(writer)
	run = writer.run
	refused = creation_refused(run.user, run.user_permissions)
	missing: dict[str, str] = {}  # match key → the name as the file first gives it
	for name in names:
		key = match_key(name)
		if key not in found and key not in errors:
			missing.setdefault(key, name)
	missing = list(missing.values())
	if refused:
		for name in missing:
			errors[match_key(name)] = refused.format(name)
		return found
	for name, created in create_missing(writer, missing).items():
		key = match_key(name)
		if isinstance(created, Exception):
			errors[key] = _("Organization {0} could not be created: {1}").format(name, readable(created))
			continue
		writer.result.created_records.setdefault(ORGANIZATION, []).append(created)
		found[key] = created
	return found


def create_missing(writer, names: list[str]) -> dict:
	"""name → the new Organization's name, or the error a save would raise. Each is a document that goes
	through what `insert()` runs before its INSERT (the controller's validate with its duplicate check,
	every app's handlers of those events, Frappe's `_validate`, the name's `<>` check;
	`importing/documents.py`), named as Organization.autoname names it, and the batch's are one multi-row
	INSERT with their global-search rows. One `insert()` each where a save must run: when imports fire
	alert rules, when the site has what the batch doesn't run (`documents.per_document_reason`), or when
	the batch is redone row by row."""
	from opportunity_suite.services.alerts.dispatcher import alerts_on_import
	from opportunity_suite.services.importing import documents

	if not names:
		return {}
	run = writer.run
	if "_organization_per_document" not in run.__dict__:
		run._organization_per_document = documents.per_document_reason(ORGANIZATION, OWN_HANDLERS)
	if writer.row_by_row or alerts_on_import() or run._organization_per_document:
		return {name: _create(name) for name in names}
	from frappe.model.naming import validate_name

	from opportunity_suite.services.duplicates import duplicate_key, find_duplicates_of
	from opportunity_suite.services.importing.tables import unique_names
	from opportunity_suite.services.importing.writer import execute, insert_statements, upsert_global_search
	from opportunity_suite.services.safe_names import organization_id

	if "_organization_documents" not in run.__dict__:
		run._organization_documents = documents.NewDocuments(run.user)
	new_documents = run._organization_documents
	# Organization.validate's duplicate check (services/duplicates.py), one query for the batch's names;
	# a name the batch makes counts for the batch's later ones, as a save one by one would find it
	known = find_duplicates_of(ORGANIZATION, [name.strip() for name in names])
	out, prepared = {}, []
	for name in names:
		title = name.strip()
		doc = new_documents.new({"doctype": ORGANIZATION, "organization_name": title})
		doc.flags.known_duplicates = known
		try:
			# as a save names it: Organization.autoname's ID, then Frappe's check of that name (`<`, `>`
			# in the organization name are dropped from the ID, and the name itself is kept, sanitized)
			new_documents.prepare(doc, writer.now, name=validate_name(ORGANIZATION, organization_id(title)))
		except (frappe.ValidationError, frappe.NameError) as e:
			frappe.clear_last_message()
			out[name] = e
			continue
		prepared.append((name, doc))
		if known is not None:
			known.setdefault(duplicate_key(doc.organization_name), []).append(doc.name)
	if not prepared:
		return out
	ids = unique_names(ORGANIZATION, [doc.name for _n, doc in prepared])  # as Organization.autoname
	docs = []
	for (name, doc), new_name in zip(prepared, ids, strict=True):
		doc.name = new_name
		documents.name_children(doc)
		docs.append(doc)
		out[name] = new_name
	execute(
		s
		for doctype, (columns, rows) in documents.rows_of(docs).items()
		for s in insert_statements(doctype, columns, rows)
	)
	documents.after_batch(docs)
	if not frappe.local.conf.get("disable_global_search"):
		entries = [entry for doc in docs if (entry := documents.search_entry(doc))]
		if entries:
			upsert_global_search(entries)
	return out


def _create(name: str) -> str | Exception:
	"""A new Organization (as a save makes it); the error instead when it can't be saved."""
	frappe.db.savepoint("opportunity_import_organization")
	in_import = frappe.flags.in_import
	frappe.flags.in_import = True  # as for the import's other records: alert rules follow alerts_on_import
	try:
		return frappe.get_doc({"doctype": ORGANIZATION, "organization_name": name.strip()}).insert().name
	except Exception as e:  # e.g. Frappe's NameError for a name with `<` or `>`: the row fails, saying why
		frappe.db.rollback(save_point="opportunity_import_organization")
		frappe.clear_last_message()
		return e
	finally:
		frappe.flags.in_import = in_import


def organization_errors(writer) -> dict[str, str]:
	"""The batch's organizations that could not be had: match key → reason."""
	return writer.__dict__.setdefault("organization_errors", {})


def not_found_reason(writer, name: str) -> str:
	"""Why a row naming organization `name` fails: creation refused or failed, or the option is off."""
	reason = organization_errors(writer).get(match_key(name))
	if reason:
		return reason
	return _("Organization {0} does not exist. Turn on Create Missing Organizations to create it.").format(
		name
	)
