"""Who receives an alert: users, roles, addresses and fields of the record, filtered by read permission.

Users and roles receive only records they may read (frappe.has_permission per user), so an alert never
leaks a record to someone who couldn't open it. An address that belongs to a user is that user, checked
the same way; other addresses (typed in the rule, or the record's own contact) are sent as they are."""

import re
from dataclasses import dataclass, field

import frappe
from frappe import _
from frappe.utils import parse_addr, validate_email_address

from opportunity_suite.services.alerts.errors import RecipientError
from opportunity_suite.services.alerts.fields import get_field

NOT_RECIPIENTS = frozenset({"Guest", "Administrator"})


@dataclass
class Recipients:
	users: list[str] = field(default_factory=list)  # User names, read permission checked
	addresses: list[str] = field(default_factory=list)  # email addresses of no user

	def emails(self) -> list[str]:
		user_emails = (
			frappe.get_all("User", filters={"name": ("in", self.users)}, pluck="email") if self.users else []
		)
		return _unique([e for e in user_emails if e] + self.addresses)


def split_entries(text: str | None) -> list[str]:
	return _unique(part.strip() for part in (text or "").replace("\n", ",").split(",") if part.strip())


def split_addresses(text: str | None) -> list[str]:
	"""Email addresses as one writes them in a list: separated by commas, semicolons or lines;
	each normalised (see `normalise_address`)."""
	parts = re.split(r"[,;\n]+", text or "")
	return _unique(normalise_address(part) for part in parts if normalise_address(part))


def normalise_address(address: str) -> str:
	"""`Name <user@Example.COM.>` -> `user@example.com`: the address inside angle brackets, without the
	quotes, brackets or trailing dots around it, its domain in lower case."""
	address = parse_addr(address.strip())[1] or address.strip()
	address = address.strip().strip("<>\"'").rstrip(".").strip()
	local, at, domain = address.rpartition("@")
	return f"{local}@{domain.lower()}" if at else address


def _unique(items) -> list:
	return list(dict.fromkeys(items))


# ---------------------------------------------------------------- fields of the record


def _throw(message: str):
	frappe.throw(message, exc=RecipientError, title=_("Invalid Recipient"))


def resolve_field_path(doctype: str, path: str) -> tuple:
	"""(link field, target doctype, target field or None) for `assigned_to`, `contact` or `contact.email_id`.
	Raises RecipientError when a part doesn't exist, e.g. `contact` before the DocType has that field."""
	first, _sep, second = path.partition(".")
	link = get_field(doctype, first)
	if link is None:
		_throw(
			_("Recipient field {0}: {1} has no field {2}.").format(
				frappe.bold(path), _(doctype), frappe.bold(first)
			)
		)
	if not second:
		if link.fieldtype == "Link" and link.options == "User":
			return link, "User", None
		if link.fieldtype == "Link" and link.options == "Contact":
			return link, "Contact", "email_id"
		if link.fieldtype == "Data" and link.options == "Email":
			return link, None, None
		_throw(
			_("Recipient field {0} must be a link to a User or a Contact, or an email field.").format(
				frappe.bold(path)
			)
		)
	if link.fieldtype != "Link" or not link.options:
		_throw(
			_("Recipient field {0}: {1} is not a link field.").format(frappe.bold(path), frappe.bold(first))
		)
	target = get_field(link.options, second)
	if target is None:
		_throw(
			_("Recipient field {0}: {1} has no field {2}.").format(
				frappe.bold(path), _(link.options), frappe.bold(second)
			)
		)
	is_email = target.fieldtype == "Data" and target.options == "Email"
	is_user = target.fieldtype == "Link" and target.options == "User"
	if not (is_email or is_user):
		_throw(
			_("Recipient field {0} must end in an email field or a link to a User.").format(frappe.bold(path))
		)
	return link, link.options, second


def _values_of_field(doc, path: str) -> list[str]:
	link, target_doctype, target_field = resolve_field_path(doc.doctype, path)
	value = doc.get(link.fieldname)
	if not value:
		return []
	if target_doctype is None or (target_doctype == "User" and target_field is None):
		return [value]
	found = frappe.db.get_value(target_doctype, value, target_field)
	return [found] if found else []


def validate_recipient_settings(doctype: str, row) -> bool:
	"""Check the recipient settings of an action row; True when it names at least one recipient."""
	users = split_entries(row.get("recipient_users"))
	for user in users:
		if not frappe.db.exists("User", user):
			_throw(_("User {0} does not exist.").format(frappe.bold(user)))
	roles = split_entries(row.get("recipient_roles"))
	for role in roles:
		if not frappe.db.exists("Role", role):
			_throw(_("Role {0} does not exist.").format(frappe.bold(role)))
	for path in split_entries(row.get("recipient_fields")):
		resolve_field_path(doctype, path)
	addresses = split_addresses(row.get("recipient_addresses"))
	for address in addresses:
		if not validate_email_address(address):
			_throw(_("{0} is not a valid email address.").format(frappe.bold(address)))
	return bool(users or roles or addresses or split_entries(row.get("recipient_fields")))


# ---------------------------------------------------------------- resolving, with permissions


def _role_users(roles: list[str]) -> list[str]:
	if not roles:
		return []
	has_role = frappe.qb.DocType("Has Role")
	user = frappe.qb.DocType("User")
	rows = (
		frappe.qb.from_(has_role)
		.join(user)
		.on(user.name == has_role.parent)
		.select(user.name)
		.distinct()
		.where(
			(has_role.parenttype == "User")
			& (has_role.role.isin(roles))
			& (user.enabled == 1)
			& (user.user_type == "System User")
		)
		.run(pluck=True)
	)
	return [name for name in rows if name not in NOT_RECIPIENTS]


def can_read(doc, user: str) -> bool:
	if not frappe.db.get_value("User", user, "enabled"):
		return False
	return bool(frappe.has_permission(doc.doctype, "read", doc=doc, user=user))


def resolve(row, doc) -> Recipients:
	"""The recipients of an action for a record: only users who may read it, and addresses of no user."""
	users = split_entries(row.get("recipient_users")) + _role_users(split_entries(row.get("recipient_roles")))
	entries = [row.get("recipient_addresses") or ""]
	for path in split_entries(row.get("recipient_fields")):
		entries += _values_of_field(doc, path)
	# every address normalised first (`user@example.com.`, `a@b.c;x@y.z`), so that the address of a
	# user is always recognised as that user, and checked like one
	addresses = split_addresses(",".join(entries))

	plain_addresses = []
	for address in addresses:
		owner = frappe.db.get_value("User", {"name": address}) or frappe.db.get_value(
			"User", {"email": address}
		)
		if owner:
			users.append(owner)
		elif validate_email_address(address):
			plain_addresses.append(address)
	readers = [user for user in _unique(users) if user not in ("Guest",) and can_read(doc, user)]
	return Recipients(readers, plain_addresses)
