"""Frappe's unassign methods, wrapped so that an opportunity's `assigned_to` keeps following its
assignments (hooks.py override_whitelisted_methods). Every other DocType gets Frappe's behaviour unchanged;
Frappe's own methods check the permissions."""

import json

import frappe
from frappe.desk.form import assign_to as frappe_assign

from opportunity_suite.services.assignment import DOCTYPE, assigned_to_of, restore_after_unassign


def _keeping_assigned_to(names: list[str], unassign):
	"""Run Frappe's unassign, then put back `assigned_to` for whoever is still assigned."""
	before = assigned_to_of(names)
	result = unassign()
	restore_after_unassign(names, before)
	return result


@frappe.whitelist()
def remove(doctype: str, name: str, assign_to: str) -> list:
	if doctype != DOCTYPE:
		return frappe_assign.remove(doctype, name, assign_to)
	return _keeping_assigned_to([name], lambda: frappe_assign.remove(doctype, name, assign_to))


@frappe.whitelist()
def close(doctype: str, name: str, assign_to: str) -> list:
	if doctype != DOCTYPE:
		return frappe_assign.close(doctype, name, assign_to)
	return _keeping_assigned_to([name], lambda: frappe_assign.close(doctype, name, assign_to))


@frappe.whitelist()
def remove_multiple(doctype: str, names: str) -> None:
	if doctype != DOCTYPE:
		return frappe_assign.remove_multiple(doctype, names)
	_keeping_assigned_to(json.loads(names), lambda: frappe_assign.remove_multiple(doctype, names))
