"""What the app's roles need of Frappe's own DocTypes for the app's pages to work, given as Custom DocPerm
rows (Frappe's Role Permissions Manager's own records), created once at install and migrate.

- Sales Manager reads Currency: the Opportunity Forecast report (and the workspace chart built on it)
  has a Currency column, and Frappe checks read permission on every DocType a report's columns link to.
  (Sales User has it from Frappe.)
- Sales Manager reads, writes and creates Addresses as a Sales User does (Frappe gives Sales Manager
  only its own Addresses): the Organization form shows and adds them.

A row is added only when the role has none for the DocType: what a manager changed later stays."""

import frappe

GRANTS = {
	("Currency", "Sales Manager"): ("read",),
	("Address", "Sales Manager"): ("read", "write", "create", "email", "print", "report", "share"),
}


def ensure_role_permissions():
	from frappe.permissions import add_permission, update_permission_property

	for (doctype, role), ptypes in GRANTS.items():
		if not frappe.db.exists("DocType", doctype) or not frappe.db.exists("Role", role):
			continue
		if frappe.db.exists(
			"Custom DocPerm", {"parent": doctype, "role": role, "permlevel": 0, "if_owner": 0}
		):
			continue
		add_permission(doctype, role, 0, ptypes[0])  # copies the DocType's own rules first, as the UI does
		for ptype in ptypes[1:]:
			update_permission_property(doctype, role, 0, ptype, 1)
