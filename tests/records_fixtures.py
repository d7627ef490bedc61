"""Typed factories for the records around the opportunity (organizations, leads, items, contacts...)."""

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
		{"doctype": "Service", "service_name": unique("Support"), "unit_price": 50, "usage_unit": "Hours", **values}
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
