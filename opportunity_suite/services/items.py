"""Product and service lines (the `Line Item` table of opportunities, quotes and sales orders).

A line's rate defaults to its item's unit price when none is given (a rate of 0 given on purpose is kept),
its amount is qty × rate, and a line may not take an inactive item (lines kept from before the item was
deactivated stay). With `amount_from_items` set on an opportunity, its amount is the lines' total;
without it, lines never change the amount."""

from collections import defaultdict

import frappe
from frappe import _
from frappe.model.meta import get_field_precision
from frappe.utils import flt

ITEM_DOCTYPES = {"Product": "product_name", "Service": "service_name"}
LINE_DOCTYPE = "Line Item"


class InactiveItemError(frappe.ValidationError):
	pass


class ItemTypeError(frappe.ValidationError):
	pass


def _precision(fieldname: str) -> int:
	return get_field_precision(frappe.get_meta(LINE_DOCTYPE).get_field(fieldname))


def _load_items(lines) -> dict[tuple[str, str], frappe._dict]:
	"""(item_type, item) -> {name, title, unit_price, is_active}, one query per item type."""
	wanted = defaultdict(set)
	for line in lines:
		if line.item_type and line.item:
			wanted[line.item_type].add(line.item)
	found = {}
	for item_type, names in wanted.items():
		title_field = ITEM_DOCTYPES[item_type]
		table = frappe.qb.DocType(item_type)
		rows = (
			frappe.qb.from_(table)
			.select(table.name, table[title_field].as_("title"), table.unit_price, table.is_active)
			.where(table.name.isin(sorted(names)))
			.run(as_dict=True)
		)
		for row in rows:
			found[(item_type, row.name)] = row
	return found


def apply_line_items(doc, before=None) -> float:
	"""Check and complete `doc.items`; returns the lines' total (rounded to the currency precision)."""
	lines = doc.get("items") or []
	for line in lines:
		if line.item_type not in ITEM_DOCTYPES:
			frappe.throw(_("Row {0}: Type must be Product or Service.").format(line.idx), exc=ItemTypeError)
	items = _load_items(lines)
	previous = {row.name: (row.item_type, row.item) for row in (before.get("items") or [])} if before else {}
	rate_precision, amount_precision = _precision("rate"), _precision("amount")
	total = 0.0
	for line in lines:
		item = items.get((line.item_type, line.item))
		if not item:
			frappe.throw(
				_("Row {0}: {1} {2} does not exist.").format(
					line.idx, _(line.item_type), frappe.bold(line.item)
				),
				exc=frappe.LinkValidationError,
			)
		unchanged = previous.get(line.name) == (line.item_type, line.item)
		if not item.is_active and not unchanged:
			frappe.throw(
				_("Row {0}: {1} {2} is inactive and cannot be added.").format(
					line.idx, _(line.item_type), frappe.bold(item.title or item.name)
				),
				exc=InactiveItemError,
			)
		line.item_name = item.title
		if line.qty is None:
			line.qty = 1
		if line.rate is None or line.rate == "":
			line.rate = flt(item.unit_price, rate_precision)
		line.amount = flt(flt(line.qty) * flt(line.rate), amount_precision)
		total += line.amount
	return flt(total, amount_precision)


def apply_opportunity_lines(doc, before=None):
	"""Opportunity: complete its lines, and with `amount_from_items` take their total as the amount."""
	total = apply_line_items(doc, before)
	if doc.amount_from_items:
		doc.amount = total


def apply_document_lines(doc, before=None):
	"""Quote / Sales Order: complete the lines and set the total (and a subject when none was given)."""
	doc.total = apply_line_items(doc, before)
	if not (doc.subject or "").strip():
		doc.subject = (
			(doc.opportunity and frappe.db.get_value("Opportunity", doc.opportunity, "opportunity_name"))
			or doc.organization
			or doc.name
		)
