"""The Opportunity list as shipped: its columns, its saved filters and its saved report views.

Everything here is created only when missing, so that what a manager changes in the desk stays."""

import json

import frappe

DOCTYPE = "Opportunity"
# a saved filter's value that the list view replaces with the current user (opportunity_list.js)
CURRENT_USER = "__current_user__"

# Opportunity list columns, in order; "status_field" is the status indicator (Open / Won / Lost)
LIST_COLUMNS = (
	"status_field",
	"sales_stage",
	"organization",
	"amount",
	"forecast_amount",
	"expected_close_date",
)
# the assignee shows as the avatar at each row's right (Frappe's _assign), which leaves the amounts room
ASSIGNEE_COLUMN = "assigned_to"

HOT_PROBABILITY = 65  # "hot deals": open and at least this probable (Proposal/Price Quote onwards)

SAVED_FILTERS = {
	"My open opportunities": [
		[DOCTYPE, "status", "=", "Open"],
		[DOCTYPE, "assigned_to", "=", CURRENT_USER],
	],
	"Closing this month": [
		[DOCTYPE, "status", "=", "Open"],
		[DOCTYPE, "expected_close_date", "Timespan", "this month"],
	],
	"Hot deals": [
		[DOCTYPE, "status", "=", "Open"],
		[DOCTYPE, "probability", ">=", HOT_PROBABILITY],
	],
}

REPORT_FIELDS = (
	"name",
	"opportunity_name",
	"organization",
	"sales_stage",
	"amount",
	"currency",
	"probability",
	"forecast_amount",
	"base_forecast_amount",
	"expected_close_date",
	"assigned_to",
)

SAVED_REPORTS = {
	"Opportunities Closing This Month": {
		"filters": SAVED_FILTERS["Closing this month"],
		"order_by": "`tabOpportunity`.`expected_close_date` asc",
	},
	"Hot Deals": {
		"filters": SAVED_FILTERS["Hot deals"],
		"order_by": "`tabOpportunity`.`base_forecast_amount` desc",
	},
}


def list_columns() -> list[str]:
	meta = frappe.get_meta(DOCTYPE)
	return [f for f in LIST_COLUMNS if f == "status_field" or meta.has_field(f)]


def ensure_list_view_settings():
	"""Columns of the list: the stage indicator, organization (once the field exists), amounts, close date,
	assignee. A settings record a manager has changed is left alone."""
	columns = list_columns()
	fields = json.dumps([{"fieldname": f} for f in columns])
	name = frappe.db.exists("List View Settings", DOCTYPE)
	if name:
		doc = frappe.get_doc("List View Settings", DOCTYPE)
		current = [f.get("fieldname") for f in json.loads(doc.fields or "[]")]
		if current == columns or current not in _shipped_before(columns):
			return  # already up to date, or a manager's own settings
	else:
		doc = frappe.new_doc("List View Settings")
		doc.name = DOCTYPE
	if "organization" in columns:
		_show_in_list_view("organization")
	doc.fields = fields
	doc.total_fields = str(len(columns) + 2)  # + the title and tag columns
	doc.save(ignore_permissions=True) if name else doc.insert(ignore_permissions=True)


def _shipped_before(columns: list[str]) -> list[list[str]]:
	"""The columns earlier versions shipped: without the stage, and without the organization."""
	with_assignee = [*columns, ASSIGNEE_COLUMN]
	without_stage = [f for f in with_assignee if f != "sales_stage"]
	return [with_assignee, without_stage, [f for f in without_stage if f != "organization"]]


def _show_in_list_view(fieldname: str):
	df = frappe.get_meta(DOCTYPE).get_field(fieldname)
	if df and not df.in_list_view:
		from frappe.custom.doctype.property_setter.property_setter import make_property_setter

		make_property_setter(
			DOCTYPE, fieldname, "in_list_view", 1, "Check", validate_fields_for_doctype=False
		)


def _valid_filters(filters: list[list]) -> list[list]:
	meta = frappe.get_meta(DOCTYPE)
	return [f for f in filters if meta.has_field(f[1])]


def ensure_saved_filters():
	"""Frappe's saved filters (List Filter) for everyone: my open opportunities, closing this month,
	hot deals."""
	for filter_name, filters in SAVED_FILTERS.items():
		if frappe.db.exists("List Filter", {"reference_doctype": DOCTYPE, "filter_name": filter_name}):
			continue
		frappe.get_doc(
			{
				"doctype": "List Filter",
				"reference_doctype": DOCTYPE,
				"filter_name": filter_name,
				"for_user": "",
				"filters": json.dumps(filters),
			}
		).insert(ignore_permissions=True)


def ensure_saved_reports():
	"""Report view "Save As" records (Report Builder) with chosen columns and conditions."""
	meta = frappe.get_meta(DOCTYPE)
	fields = [[f, DOCTYPE] for f in REPORT_FIELDS if f == "name" or meta.has_field(f)]
	for report_name, settings in SAVED_REPORTS.items():
		if frappe.db.exists("Report", report_name):
			continue
		report = frappe.get_doc(
			{
				"doctype": "Report",
				"report_name": report_name,
				"ref_doctype": DOCTYPE,
				"report_type": "Report Builder",
				"is_standard": "No",
				"module": "Opportunity Suite",
				"json": json.dumps(
					{
						"filters": _valid_filters(settings["filters"]),
						"fields": fields,
						"order_by": settings["order_by"],
						"add_totals_row": 1,
						"page_length": 20,
						"column_widths": {},
						"group_by": None,
					}
				),
			}
		)
		report.insert(ignore_permissions=True)


SEARCHABLE_LINKS = ("organization", "contact")  # once the records branch adds them to Opportunity


def ensure_search_by_links():
	"""Global search and the list's search find an opportunity by its organization and contact once the
	fields exist (Property Setters, so a DocType JSON that already sets them makes this a no-op)."""
	from frappe.custom.doctype.property_setter.property_setter import make_property_setter

	meta = frappe.get_meta(DOCTYPE)
	changed = False
	search_fields = [f.strip() for f in (meta.search_fields or "").split(",") if f.strip()]
	for fieldname in SEARCHABLE_LINKS:
		df = meta.get_field(fieldname)
		if not df:
			continue
		if not df.in_global_search:
			make_property_setter(
				DOCTYPE, fieldname, "in_global_search", 1, "Check", validate_fields_for_doctype=False
			)
			changed = True
		if fieldname not in search_fields:
			search_fields.append(fieldname)
			make_property_setter(
				DOCTYPE,
				None,
				"search_fields",
				",".join(search_fields),
				"Data",
				for_doctype=True,
				validate_fields_for_doctype=False,
			)
	if changed:
		frappe.enqueue(
			"frappe.utils.global_search.rebuild_for_doctype",
			doctype=DOCTYPE,
			job_id="opportunity_suite:rebuild_global_search",
			deduplicate=True,
			enqueue_after_commit=True,
		)


def ensure_list_views():
	ensure_list_view_settings()
	ensure_search_by_links()
	ensure_saved_filters()
	ensure_saved_reports()
