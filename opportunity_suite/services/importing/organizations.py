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
	"""name → the new Organization's name, or the error a save would raise. One multi-row INSERT for the
	batch, with what a save checks and sets (Frappe's naming, the name's `<>` check, length, sanitizer,
	Assigned To = the creator, global search); one save each where a save must run: when imports fire
	alert rules, or when the batch is redone row by row."""
	from opportunity_suite.services.alerts.dispatcher import alerts_on_import

	if not names:
		return {}
	if writer.row_by_row or alerts_on_import():
		return {name: _create(name) for name in names}
	from frappe.model.naming import validate_name

	from opportunity_suite.services.importing.tables import Table, unique_names
	from opportunity_suite.services.importing.writer import execute, insert_statements, upsert_global_search
	from opportunity_suite.services.safe_names import organization_id

	run = writer.run
	table = run.__dict__.get("_organization_table") or run.__dict__.setdefault(
		"_organization_table", Table(ORGANIZATION)
	)
	out, rows = {}, []
	for name in names:
		title = name.strip()
		problems: list[str] = []
		try:
			# as a save names it: Organization.autoname's ID, then Frappe's check of that name (`<`, `>`
			# in the organization name are dropped from the ID, and the name itself is kept, sanitized)
			validate_name(ORGANIZATION, organization_id(title))
		except (frappe.ValidationError, frappe.NameError) as e:  # as a save refuses it
			frappe.clear_last_message()
			out[name] = e
			continue
		row = table.clean({"organization_name": title}, problems, ORGANIZATION)  # the save's sanitizer
		if problems or not row["organization_name"]:
			out[name] = frappe.ValidationError("; ".join(problems))
			continue
		rows.append((name, title, row["organization_name"]))
	if not rows:
		return out
	docs = []
	ids = unique_names(ORGANIZATION, [organization_id(t) for _n, t, _s in rows])  # as Organization.autoname
	for (name, _title, stored), new_name in zip(rows, ids, strict=True):
		docs.append(
			table.new_row(
				{"name": new_name, "organization_name": stored, "assigned_to": run.user}, writer.now, run.user
			)
		)
		out[name] = new_name
	execute(insert_statements(ORGANIZATION, *table.rows(docs)))
	if not frappe.local.conf.get("disable_global_search"):
		entries = [
			(ORGANIZATION, doc["name"], " ||| ".join(parts), 0, doc["organization_name"][:140], "")
			for doc in docs
			if (parts := table.search_content(doc))
		]
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
