app_name = "opportunity_suite"
app_title = "Opportunity Suite"
app_publisher = "opportunity_suite developers"
app_description = "A complete, Vtiger-grade Opportunities module for Frappe"
app_email = "opportunity-suite@example.com"
app_license = "mit"
required_apps = []

# the desk's apps screen (Frappe 15's /apps, Frappe 16's desktop): the app's workspace, for users who may
# read opportunities
add_to_apps_screen = [
	{
		"name": "opportunity_suite",
		"logo": "/assets/opportunity_suite/images/opportunity_suite.svg",
		"title": "Opportunity Suite",
		"route": "/app/opportunities",
		"has_permission": "opportunity_suite.services.desk.may_open_app",
	}
]

# Refuse a site where another app already owns one of our DocType names (ERPNext's Opportunity...)
before_install = "opportunity_suite.install.before_install"
after_install = "opportunity_suite.install.after_install"
after_migrate = "opportunity_suite.install.after_migrate"
before_tests = "opportunity_suite.install.before_tests"

# The app's reports open directly, never as a "prepared report" (services/direct_reports.py)
override_doctype_class = {"Report": "opportunity_suite.overrides.report.DirectReport"}

_ALERTS = {
	"after_insert": "opportunity_suite.events.alerts.after_insert",
	"on_update": "opportunity_suite.events.alerts.on_update",
}
_STALE = "opportunity_suite.services.stale.refresh_for_activity"
_SEARCH = "opportunity_suite.services.search.on_change"
_TOTALS = "opportunity_suite.services.totals."
doc_events = {
	# Frappe's Contact links to Organizations and Leads only (see services/contacts.py)
	"Contact": {
		"validate": "opportunity_suite.services.contacts.validate_contact_links",
		"before_save": "opportunity_suite.services.contacts.keep_card_full_name",  # a vCard's FN
	},
	# Alert rules (services/alerts) watch the app's DocTypes
	"Opportunity": {
		# the pre-aggregated totals first (services/totals/): an alert's failure must not leave them behind
		"after_insert": [_TOTALS + "after_insert", _ALERTS["after_insert"], _SEARCH],
		"on_update": [_TOTALS + "on_change", _ALERTS["on_update"], _SEARCH],
		# the infix search's window index (services/search.py)
		"after_rename": ["opportunity_suite.services.search.on_rename", _TOTALS + "on_rename"],
		"after_delete": ["opportunity_suite.services.search.on_delete", _TOTALS + "on_change"],
	},
	"Lead": dict(_ALERTS),
	"Organization": dict(_ALERTS),
	"Quote": dict(_ALERTS),
	"Sales Order": dict(_ALERTS),
	"Project": dict(_ALERTS),
	# Assigned To <-> Frappe's Assign To (services/assignment.py)
	"ToDo": {
		"validate": "opportunity_suite.events.todo.validate",
		"on_trash": "opportunity_suite.events.todo.on_trash",
		"on_update": ["opportunity_suite.events.todo.on_update", _STALE, _TOTALS + "on_todo_change"],
		"after_delete": ["opportunity_suite.events.todo.after_delete", _STALE, _TOTALS + "on_todo_change"],
	},
	# the stale radar (services/stale.py): a deal's activities, a stage's threshold
	"Event": {"on_update": _STALE, "after_delete": _STALE},
	"Opportunity Stage": {"on_update": "opportunity_suite.services.stale.enqueue_refresh"},
	# the reporting line of record visibility (services/visibility.py)
	"User": {
		"validate": "opportunity_suite.services.visibility.validate_reporting_line",
		"on_update": "opportunity_suite.services.visibility.clear_cache",
	},
}

# Record visibility (Opportunity Settings' Visibility): opportunities, and the quotes and sales orders that
# follow them, on every path that asks Frappe (services/visibility.py)
permission_query_conditions = {
	"Opportunity": "opportunity_suite.services.visibility.opportunity_query_conditions",
	"Quote": "opportunity_suite.services.visibility.follower_query_conditions",
	"Sales Order": "opportunity_suite.services.visibility.follower_query_conditions",
	# their rows listed on their own (REST `?parent=`): Frappe checks only the parent's DocType there
	"Line Item": "opportunity_suite.services.visibility.child_query_conditions",
	"Opportunity Contact": "opportunity_suite.services.visibility.child_query_conditions",
	# the stage history follows its opportunity, as a quote does
	"Opportunity Stage History": "opportunity_suite.services.visibility.follower_query_conditions",
	"Sales Quota": "opportunity_suite.services.visibility.quota_query_conditions",
}
has_permission = {
	"Opportunity": "opportunity_suite.services.visibility.has_opportunity_permission",
	"Quote": "opportunity_suite.services.visibility.has_follower_permission",
	"Sales Order": "opportunity_suite.services.visibility.has_follower_permission",
	"Opportunity Stage History": "opportunity_suite.services.visibility.has_follower_permission",
	"Sales Quota": "opportunity_suite.services.visibility.has_quota_permission",
}

scheduler_events = {
	# scheduled alert rules
	"cron": {
		"*/5 * * * *": ["opportunity_suite.services.alerts.run_scheduled_rules"],
	},
	# Opportunity Import's watchdog: resume runs left Running by a killed worker
	# and the forecast recompute's: resume a run whose worker died, from its checkpoint
	"all": [
		"opportunity_suite.services.totals.fold",  # the totals' deltas into their summary
		"opportunity_suite.services.outcome_totals.fold",  # the closed deals' deltas into theirs
		"opportunity_suite.services.importing.jobs.resume_stalled_imports",
		"opportunity_suite.services.recompute.resume_stalled_recompute",
	],
	# the stale radar: time passing makes deals stale without a save (services/stale.py)
	"daily_long": ["opportunity_suite.services.stale.refresh_all_stale"],
	# the frozen forecast the Forecast Accuracy report judges (services/forecast_snapshots.py)
	"weekly": ["opportunity_suite.services.forecast_snapshots.take_weekly_snapshot"],
}

# on every desk page: the Opportunity quick entry (it opens from any Link field) and the forecast preview;
# the app's DocTypes a user may not read say "not permitted" in the desk, not "Page … not found"; the
# workspace's sample data actions and compact number cards; the app's link filters without Frappe's raw
# "Filters applied for …" line
app_include_js = [
	"/assets/opportunity_suite/js/opportunity_forecast.js",
	"/assets/opportunity_suite/js/not_permitted.js",
	"/assets/opportunity_suite/js/select_in_context.js",  # a read-only Select's value in its DocType's words
	"/assets/opportunity_suite/js/sample_data.js",
	"/assets/opportunity_suite/js/link_filters.js",
	"/assets/opportunity_suite/js/number_cards.js",
	# "Create a new Contact" from any Link field: a quick entry keeping the typed name
	"/assets/opportunity_suite/js/contact_quick_entry.js",
]

# form scripts shared by several of the app's forms (product/service lines, duplicate warnings), and the
# opportunity's related lists and create buttons
doctype_js = {
	"Opportunity": [
		"public/js/line_items.js",
		"public/js/opportunity_activities.js",
		"public/js/opportunity_records.js",
		"public/js/opportunity_stage_path.js",
		"public/js/stage_facts.js",
		"public/js/lost_reason.js",
	],
	"Quote": "public/js/line_items.js",
	"Sales Order": "public/js/line_items.js",
	"Organization": "public/js/duplicates.js",
	"Lead": "public/js/duplicates.js",
	"Contact": "public/js/contact.js",
}

# the Kanban board asks why a card dropped on a Lost column was lost (public/js/lost_reason.js)
doctype_list_js = {"Opportunity": "public/js/lost_reason.js"}

extend_bootinfo = "opportunity_suite.services.desk.extend_bootinfo"

# The desk's global search offers these (Frappe reads the hook when it sets up a site; install.py adds
# them to an existing site's Global Search Settings)
global_search_doctypes = {
	"Default": [
		{"doctype": dt}
		for dt in (
			"Opportunity",
			"Organization",
			"Lead",
			"Quote",
			"Sales Order",
			"Project",
			"Product",
			"Service",
		)
	]
}

override_whitelisted_methods = {
	# Frappe's four export paths, wrapped to neutralise spreadsheet formulas in the app's data
	"frappe.desk.reportview.export_query": "opportunity_suite.api.exporting.export_query",
	"frappe.desk.query_report.export_query": "opportunity_suite.api.exporting.export_report",
	"frappe.core.doctype.data_import.data_import.download_template": "opportunity_suite.api.exporting.download_template",
	"frappe.core.doctype.data_export.exporter.export_data": "opportunity_suite.api.exporting.export_data",
	# Frappe's global search checks only the DocType: ours drops the records the user may not read
	"frappe.utils.global_search.search": "opportunity_suite.api.search.global_search",
	# infix search over a million opportunities: Frappe's queries narrowed by a window index (services/search.py)
	"frappe.desk.search.search_link": "opportunity_suite.api.search.search_link",
	"frappe.desk.reportview.get": "opportunity_suite.api.search.reportview_get",
	"frappe.desk.reportview.get_count": "opportunity_suite.api.search.reportview_get_count",
	# Frappe's get_count is a bare frappe.db.count: ours counts what the user may read
	"frappe.client.get_count": "opportunity_suite.api.client.get_count",
	"frappe.desk.listview.get_group_by_count": "opportunity_suite.api.client.get_group_by_count",
	# the app's number cards from the pre-aggregated totals (services/totals/)
	"frappe.desk.doctype.number_card.number_card.get_result": "opportunity_suite.api.client.get_number_card_result",
	# Frappe's unassign clears a field named assigned_to whoever is removed; ours puts back who is still assigned
	"frappe.desk.form.assign_to.remove": "opportunity_suite.api.assignment.remove",
	"frappe.desk.form.assign_to.close": "opportunity_suite.api.assignment.close",
	"frappe.desk.form.assign_to.remove_multiple": "opportunity_suite.api.assignment.remove_multiple",
	# a card dragged as the board opens met the board's own save of its column order: tried again
	"frappe.desk.doctype.kanban_board.kanban_board.update_order_for_single_card": "opportunity_suite.api.kanban.update_order_for_single_card",
}

# Tracebacks of failed requests only for System Managers (services/tracebacks.py)
before_request = ["opportunity_suite.services.tracebacks.hide_from_non_system_managers"]

# An alert's log stays as history when its record is deleted: it must not block the deletion
ignore_links_on_delete = ["Alert Log", "Opportunity Stage History"]  # the history goes with its deal
