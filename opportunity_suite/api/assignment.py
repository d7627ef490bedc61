"""Frappe's unassign methods, wrapped so that an opportunity's `assigned_to` keeps following its
assignments (hooks.py override_whitelisted_methods). Every other DocType gets Frappe's behaviour unchanged;
Frappe's own methods check the permissions."""

import json

import frappe
from frappe.desk.form import assign_to as frappe_assign

from opportunity_suite.services.assignment import DOCTYPE, assigned_to_of, restore_after_unassign


@frappe.whitelist()
def remove(doctype: str, name: str, assign_to: str) -> list:
	if doctype != DOCTYPE:
		return frappe_assign.remove(doctype, name, assign_to)
	before = assigned_to_of([name])
	result = frappe_assign.remove(doctype, name, assign_to)
	restore_after_unassign([name], before)
	return result


@frappe.whitelist()
def close(doctype: str, name: str, assign_to: str) -> list:
	if doctype != DOCTYPE:
		return frappe_assign.close(doctype, name, assign_to)
	before = assigned_to_of([name])
	result = frappe_assign.close(doctype, name, assign_to)
	restore_after_unassign([name], before)
	return result


@frappe.whitelist()
def remove_multiple(doctype: str, names: str) -> None:
	if doctype != DOCTYPE:
		return frappe_assign.remove_multiple(doctype, names)
	docnames = json.loads(names)
	before = assigned_to_of(docnames)
	frappe_assign.remove_multiple(doctype, names)
	restore_after_unassign(docnames, before)
