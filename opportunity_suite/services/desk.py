"""What the app ships into the desk around Opportunity, created idempotently after install and migrate:
list columns, saved filters and report views, the Kanban board by stage."""

import frappe


def ensure_desk_records():
	from opportunity_suite.services.kanban import ensure_stage_board
	from opportunity_suite.services.list_views import ensure_list_views

	if not frappe.db.table_exists("Opportunity"):
		return
	ensure_list_views()
	ensure_stage_board()


def extend_bootinfo(bootinfo):
	"""The app's DocTypes, for the desk's "not permitted" answer (public/js/not_permitted.js)."""
	bootinfo.opportunity_suite_doctypes = frappe.get_all(
		"DocType", filters={"module": "Opportunity Suite", "istable": 0}, pluck="name"
	)


def may_open_app() -> bool:
	"""Whether the apps screen offers the app to the session user: they may read opportunities."""
	return bool(frappe.has_permission("Opportunity", "read"))
