"""Aggregates in `frappe.get_list`'s fields, written the way the running Frappe reads them.

Frappe 15's list query (`DatabaseQuery`) takes SQL functions as strings (`"count(name) as n"`) and knows
nothing else; Frappe 16's query builder refuses SQL written as a string in a field ("use dict syntax like
{'COUNT': '*'}") and takes a dict (`{"COUNT": "name", "as": "n"}`) or a query-builder term. Through these
helpers the app's counts and sums go through Frappe's permission-checked list query on both."""

import frappe
from frappe.query_builder.functions import Count

FRAPPE_MAJOR = int(frappe.__version__.split(".")[0])


def aggregate(function: str, fieldname: str, alias: str):
	"""`function` (count, sum, avg, max, min) of the main DocType's field `fieldname`, named `alias`."""
	if FRAPPE_MAJOR >= 16:
		return {function.upper(): fieldname, "as": alias}
	return f"{function.lower()}({fieldname}) as {alias}"


def count_distinct_names(doctype: str, alias: str = "count"):
	"""How many distinct records of `doctype` (a filter on a child table repeats its parent's row)."""
	if FRAPPE_MAJOR >= 16:
		return Count(frappe.qb.DocType(doctype).name).distinct().as_(alias)
	return f"count(distinct `tab{doctype}`.`name`) as {alias}"


def field_as(doctype: str, fieldname: str, alias: str) -> str:
	"""A field of `doctype` under another name (both Frappes take this form)."""
	return f"`tab{doctype}`.`{fieldname}` as {alias}"
