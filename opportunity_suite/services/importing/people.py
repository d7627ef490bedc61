"""Who a file names: users (Assigned To) and contacts, looked up in bulk, once per batch.

A user is named by the login e-mail (the User's name) or by the login name (`User.username`, what
Vtiger exports as Assigned To), any case. A disabled user is refused, naming them. A name that is no
user fails its row naming it, unless the run's user map says whom it means: Vtiger exports a group's
name (`Team Selling`) for a record a group owns, and a group is no user here — such a row is never
imported unassigned. A contact is named by its name or, as Vtiger exports it (`Contacts::::Jane Roe`),
by its full name when exactly one contact has it."""

import frappe
from frappe import _

from opportunity_suite.services.importing.values import match_key


class UserMapError(frappe.ValidationError):
	pass


def parse_user_map(text: str | None) -> dict[str, str]:
	"""The run's user map, one `name in the file = user` a line (`Team Selling = anna@example.com`):
	match key of the name → the user it means. Every target must be an enabled user."""
	pairs: dict[str, tuple[str, str]] = {}
	for number, line in enumerate((text or "").splitlines(), start=1):
		if not line.strip():
			continue
		name, equals, target = line.rpartition("=")
		if not equals or not name.strip() or not target.strip():
			frappe.throw(
				_(
					"User Map line {0}: write it as name = user (e.g. Team Selling = anna@example.com)."
				).format(number),
				exc=UserMapError,
			)
		pairs[match_key(name.strip())] = (name.strip(), target.strip())
	if not pairs:
		return {}
	found, problems = resolve_users([target for _name, target in pairs.values()])
	out = {}
	for key, (name, target) in pairs.items():
		user = found.get(match_key(target))
		if not user:
			frappe.throw(
				_("User Map: {0} = {1}: {2}").format(name, target, problems.get(match_key(target))),
				exc=UserMapError,
			)
		out[key] = user
	return out


def resolve_users(
	wanted: list[str], user_map: dict[str, str] | None = None
) -> tuple[dict[str, str], dict[str, str]]:
	"""({match key: user name}, {match key: why it is refused}) for the names in `wanted`."""
	user_map = user_map or {}
	names = list(dict.fromkeys(v for v in wanted if v))
	found: dict[str, str] = {}
	problems: dict[str, str] = {}
	if not names:
		return found, problems
	rows = frappe.get_all(
		"User",
		or_filters={"name": ("in", names), "username": ("in", names)},
		fields=["name", "username", "enabled"],
	)
	by_key: dict[str, frappe._dict] = {}
	for row in rows:  # the login e-mail first: it is unique; a username may equal another's e-mail
		by_key.setdefault(match_key(row.name), row)
	for row in rows:
		if row.username:
			by_key.setdefault(match_key(row.username), row)
	for value in names:
		key = match_key(value)
		if key in user_map:
			found[key] = user_map[key]
			continue
		row = by_key.get(key)
		if row is None:
			problems[key] = _(
				"{0} is not a user here (a Vtiger group's name, such as Team Selling, is no user: map it "
				"to one in the import's User Map)"
			).format(value)
		elif not row.enabled:
			problems[key] = _("the user {0} is disabled and can't be assigned opportunities").format(value)
		else:
			found[key] = row.name
	return found, problems


def resolve_contacts(wanted: list[str]) -> tuple[dict[str, str], dict[str, str]]:
	"""({match key: Contact name}, {match key: why not}) for names or full names in `wanted`."""
	names = list(dict.fromkeys(v for v in wanted if v))
	found: dict[str, str] = {}
	problems: dict[str, str] = {}
	if not names:
		return found, problems
	for name in frappe.get_all("Contact", filters={"name": ("in", names)}, pluck="name"):
		found[match_key(name)] = name
	rest = [v for v in names if match_key(v) not in found]
	if rest:
		by_full_name: dict[str, list[str]] = {}
		for row in frappe.get_all(
			"Contact", filters={"full_name": ("in", rest)}, fields=["name", "full_name"], order_by="creation"
		):
			by_full_name.setdefault(match_key(row.full_name), []).append(row.name)
		for value in rest:
			matches = by_full_name.get(match_key(value), [])
			if len(matches) == 1:
				found[match_key(value)] = matches[0]
			elif matches:
				problems[match_key(value)] = _(
					"{0} contacts are named {1} ({2}): give the contact's ID"
				).format(len(matches), value, ", ".join(matches[:5]))
	return found, problems
