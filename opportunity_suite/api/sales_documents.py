"""Quote and Sales Order made from an opportunity (and a sales order from a quote).

Each returns an unsaved document (the desk's `frappe.model.open_mapped_doc` opens it in a new form; a REST
caller inserts it with POST /api/resource/...): nothing is written here."""

import frappe
from frappe.model.document import Document

from opportunity_suite.services import sales_documents


def _check(source_doctype: str, source_name: str, target_doctype: str):
	frappe.has_permission(source_doctype, "read", doc=source_name, throw=True)
	frappe.has_permission(target_doctype, "create", throw=True)


@frappe.whitelist()
def make_quote(source_name: str, target_doc: str | dict | None = None) -> Document:
	_check("Opportunity", source_name, "Quote")
	return sales_documents.make_quote(source_name, target_doc)


@frappe.whitelist()
def make_sales_order(source_name: str, target_doc: str | dict | None = None) -> Document:
	_check("Opportunity", source_name, "Sales Order")
	return sales_documents.make_sales_order(source_name, target_doc)


@frappe.whitelist()
def make_sales_order_from_quote(source_name: str, target_doc: str | dict | None = None) -> Document:
	_check("Quote", source_name, "Sales Order")
	return sales_documents.make_sales_order_from_quote(source_name, target_doc)
