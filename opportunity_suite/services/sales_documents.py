"""Quotes and sales orders made from an opportunity, and a sales order from a quote.

Built with `frappe.model.mapper.get_mapped_doc` (same-named fields and the shared `Line Item` table are
copied by the mapper; custom fields of the same name travel too), linked back to their source through
their `opportunity` (and `quote`) fields. The result is an unsaved document the desk opens or a caller
inserts."""

from frappe.model.document import Document
from frappe.model.mapper import get_mapped_doc

# fields of the opportunity that are not the quote's or order's business even where a field has the same
# name (status means something else; project is set by the project conversion)
NOT_MAPPED = ["status", "project", "description", "amount"]


def _from_opportunity(target_doctype: str, source_name: str, target_doc=None) -> Document:
	def postprocess(source, target):
		target.subject = source.opportunity_name
		target.opportunity = source.name
		target.currency = source.currency
		target.run_method("set_missing_values")

	return get_mapped_doc(
		"Opportunity",
		source_name,
		{
			"Opportunity": {
				"doctype": target_doctype,
				"field_map": {"name": "opportunity", "opportunity_name": "subject"},
				"field_no_map": NOT_MAPPED,
			},
			"Line Item": {"doctype": "Line Item"},
		},
		target_doc,
		postprocess,
	)


def make_quote(opportunity: str, target_doc=None) -> Document:
	"""A new Quote for the opportunity: its organization, primary contact, currency and lines."""
	return _from_opportunity("Quote", opportunity, target_doc)


def make_sales_order(opportunity: str, target_doc=None) -> Document:
	"""A new Sales Order for the opportunity: its organization, primary contact, currency and lines."""
	return _from_opportunity("Sales Order", opportunity, target_doc)


def make_sales_order_from_quote(quote: str, target_doc=None) -> Document:
	"""A new Sales Order from a quote: its lines, links (opportunity, organization, contact) and terms."""

	def postprocess(source, target):
		target.quote = source.name

	return get_mapped_doc(
		"Quote",
		quote,
		{
			"Quote": {
				"doctype": "Sales Order",
				"field_map": {"name": "quote"},
				"field_no_map": ["status", "project"],
			},
			"Line Item": {"doctype": "Line Item"},
		},
		target_doc,
		postprocess,
	)
