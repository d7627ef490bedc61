"""Frappe's Contact as the app uses it: linked (Dynamic Link) to Organizations and Leads only.

An opportunity reaches its contacts through its own `contact` and `contacts` fields; a Contact's name is
built from its first link, so it is never linked to an opportunity or another of the app's records."""

import frappe
from frappe import _
from frappe.utils.caching import request_cache

LINKABLE_DOCTYPES = ("Organization", "Lead")


class ContactLinkError(frappe.ValidationError):
	pass


@request_cache
def app_doctypes() -> set[str]:
	"""(Read once per request or job: a vCard import validates a contact per card.)"""
	return set(frappe.get_all("DocType", filters={"module": "Opportunity Suite", "istable": 0}, pluck="name"))


def validate_contact_links(doc, method=None):
	"""doc_events hook on Contact: refuse a link to one of the app's DocTypes other than Organization/Lead."""
	if frappe.flags.in_install or frappe.flags.in_patch or frappe.flags.in_migrate:
		return
	refused = app_doctypes() - set(LINKABLE_DOCTYPES)
	for link in doc.get("links") or []:
		if link.link_doctype in refused:
			frappe.throw(
				_("Row {0}: a Contact can be linked to an Organization or a Lead, not to a {1}.").format(
					link.idx, _(link.link_doctype)
				),
				exc=ContactLinkError,
			)


def keep_card_full_name(doc, method=None):
	"""doc_events hook on Contact (before_save): a contact a vCard import makes keeps FN as the card
	writes it (with prefix and suffix); Contact.validate rebuilt it from the parts. A later save rebuilds
	it, as Frappe does. The import's batch and its one-by-one saves both come through here."""
	if doc.flags.card_full_name:
		doc.full_name = doc.flags.card_full_name


def find_contact_by_email(email: str | None) -> str | None:
	"""The oldest Contact with this email address (any of its emails, trimmed, any case), or None."""
	email = (email or "").strip()
	if not email:
		return None
	contact_email = frappe.qb.DocType("Contact Email")
	contact = frappe.qb.DocType("Contact")
	rows = (
		frappe.qb.from_(contact_email)
		.join(contact)
		.on(contact.name == contact_email.parent)
		.select(contact.name)
		.where((contact_email.parenttype == "Contact") & (contact_email.email_id == email))
		.orderby(contact.creation)
		.limit(1)
		.run()
	)
	if rows:
		return rows[0][0]
	return frappe.db.get_value("Contact", {"email_id": email}, "name", order_by="creation asc")


def add_link(contact_name: str, link_doctype: str, link_name: str):
	"""Link an existing Contact to a record (no-op when already linked)."""
	contact = frappe.get_doc("Contact", contact_name)
	if any(row.link_doctype == link_doctype and row.link_name == link_name for row in contact.links):
		return
	contact.append("links", {"link_doctype": link_doctype, "link_name": link_name})
	contact.save()


def ensure_default_address_template():
	"""Bare Frappe ships no Address Template, and an Address can't be shown (or saved) without one:
	make the default from Frappe's own template, for the system's country (idempotent)."""
	if frappe.db.exists("Address Template", {"is_default": 1}):
		return
	country = frappe.db.get_single_value("System Settings", "country") or "United States"
	if not frappe.db.exists("Country", country):
		return
	if frappe.db.exists("Address Template", country):
		frappe.db.set_value("Address Template", country, "is_default", 1)
		return
	from frappe.contacts.doctype.address_template.address_template import get_default_address_template

	frappe.get_doc(
		{
			"doctype": "Address Template",
			"country": country,
			"is_default": 1,
			"template": get_default_address_template(),
		}
	).insert(ignore_permissions=True)


# the parts of a vCard a Contact has no field for: suffix, notes, website, UID, and the type of each
# e-mail and phone (created at install and migrate; a vCard import fills them)
VCARD_FIELDS = {
	"Contact": [
		{"fieldname": "suffix", "label": "Suffix", "fieldtype": "Data", "insert_after": "last_name"},
		{"fieldname": "website", "label": "Website", "fieldtype": "Data", "insert_after": "designation"},
		{"fieldname": "notes", "label": "Notes", "fieldtype": "Small Text", "insert_after": "department"},
		{
			"fieldname": "vcard_uid",
			"label": "vCard UID",
			"fieldtype": "Data",
			"insert_after": "notes",
			"read_only": 1,
			"search_index": 1,
			"no_copy": 1,
		},
	],
	"Contact Email": [
		{
			"fieldname": "email_type",
			"label": "Type",
			"fieldtype": "Select",
			"options": "\nWork\nHome\nOther",
			"insert_after": "email_id",
			"in_list_view": 1,
			"columns": 2,
		}
	],
	"Contact Phone": [
		{
			"fieldname": "phone_type",
			"label": "Type",
			"fieldtype": "Select",
			"options": "\nWork\nHome\nCell\nFax\nPager\nOther",
			"insert_after": "phone",
			"in_list_view": 1,
			"columns": 2,
		}
	],
}


def ensure_vcard_fields():
	from frappe.custom.doctype.custom_field.custom_field import create_custom_fields

	create_custom_fields(VCARD_FIELDS, update=True)
