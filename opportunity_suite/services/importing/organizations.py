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
	"""match key → name of the organization called `name` (its name or its organization name)."""
	found = {}
	for field in ("name", "organization_name"):
		for row in frappe.get_all(
			ORGANIZATION,
			filters={field: ("in", names)},
			fields=["name", "organization_name"],
			order_by="creation",
		):
			found.setdefault(match_key(row.name), row.name)
			found.setdefault(match_key(row.organization_name), row.name)
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
	for name in names:
		key = match_key(name)
		if key in found or key in errors:
			continue
		if refused:
			errors[key] = refused.format(name)
			continue
		created = _create(name)
		if isinstance(created, Exception):
			errors[key] = _("Organization {0} could not be created: {1}").format(name, readable(created))
			continue
		writer.result.created_records.setdefault(ORGANIZATION, []).append(created)
		found[key] = created
	return found


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
