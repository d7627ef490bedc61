"""Typed factories for the records around the opportunity (organizations, leads, items, contacts...)."""

import json
import os
import urllib.error
import urllib.request
from http.cookiejar import CookieJar

import frappe
from frappe.model.document import Document

from tests.factories import unique


def make_organization(**values) -> Document:
	return frappe.get_doc({"doctype": "Organization", "organization_name": unique("Org"), **values}).insert()


def make_lead(**values) -> Document:
	return frappe.get_doc(
		{
			"doctype": "Lead",
			"first_name": "Ada",
			"last_name": unique("Lovelace"),
			"email_id": f"{frappe.generate_hash(length=10)}@lead.example.com",
			**values,
		}
	).insert()


def make_product(**values) -> Document:
	return frappe.get_doc(
		{"doctype": "Product", "product_name": unique("Widget"), "unit_price": 100, **values}
	).insert()


def make_service(**values) -> Document:
	return frappe.get_doc(
		{
			"doctype": "Service",
			"service_name": unique("Support"),
			"unit_price": 50,
			"usage_unit": "Hours",
			**values,
		}
	).insert()


def make_contact(email: str | None = None, links: list[tuple[str, str]] = (), **values) -> Document:
	contact = frappe.get_doc({"doctype": "Contact", "first_name": unique("Grace"), **values})
	if email:
		contact.append("email_ids", {"email_id": email, "is_primary": 1})
	for link_doctype, link_name in links:
		contact.append("links", {"link_doctype": link_doctype, "link_name": link_name})
	return contact.insert()


def line(item: Document, **values) -> dict:
	return {"item_type": item.doctype, "item": item.name, **values}


def make_committed_users(**roles_by_key: str) -> dict[str, str]:
	"""Users made and committed once (e.g. for a module of tests); remove them with delete_committed_users."""
	from tests.factories import make_user

	frappe.db.rollback()
	frappe.set_user("Administrator")
	users = {key: make_user(*roles.split(",")) for key, roles in roles_by_key.items()}
	frappe.db.commit()
	return users


def delete_committed(doctype: str, names) -> None:
	"""Delete committed records for good, with the traces Frappe leaves of a deletion (a "Deleted"
	comment, a Deleted Document row). The caller commits."""
	names = [name for name in names if name]
	for name in names:
		if frappe.db.exists(doctype, name):
			frappe.delete_doc(doctype, name, force=True, ignore_permissions=True, delete_permanently=True)
	if names:
		frappe.db.delete("Comment", {"reference_doctype": doctype, "reference_name": ("in", names)})
		deleted = [f"{frappe._(doctype)} {name}" for name in names]  # Frappe's "Deleted" comment's subject
		frappe.db.delete(
			"Comment", {"comment_type": "Deleted", "reference_doctype": doctype, "subject": ("in", deleted)}
		)
		frappe.db.delete("Deleted Document", {"deleted_doctype": doctype, "deleted_name": ("in", names)})


def delete_committed_users(users: dict[str, str]):
	frappe.db.rollback()
	frappe.set_user("Administrator")
	names = list(users.values())
	# Frappe made a Contact for each user, and keeps it (unlinked) when the user goes
	contacts = frappe.get_all("Contact", filters={"email_id": ("in", names)}, pluck="name")
	delete_committed("User", names)
	delete_committed("Contact", contacts)
	# the user's Notification Settings go with it, and leave their own traces
	delete_committed("Notification Settings", names)
	frappe.db.commit()


def rest_client(base_url: str):
	"""A logged-in (Administrator) HTTP client for the web server: call(path, payload, method) -> (status, body)."""
	opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
	body = json.dumps({"usr": "Administrator", "pwd": os.environ.get("OS_ADMIN_PASSWORD", "admin")}).encode()
	opener.open(
		urllib.request.Request(f"{base_url}/api/method/login", body, {"Content-Type": "application/json"})
	)

	def call(path: str, payload: dict | None = None, method: str = "POST") -> tuple[int, dict]:
		data = json.dumps(payload).encode() if payload is not None else None
		headers = {"Content-Type": "application/json"}
		request = urllib.request.Request(f"{base_url}{path}", data, headers, method=method)
		try:
			with opener.open(request) as response:
				return response.status, json.loads(response.read())
		except urllib.error.HTTPError as error:
			return error.code, json.loads(error.read())

	return call
