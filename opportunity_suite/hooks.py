app_name = "opportunity_suite"
app_title = "Opportunity Suite"
app_publisher = "opportunity_suite developers"
app_description = "A complete, Vtiger-grade Opportunities module for Frappe"
app_email = "opportunity-suite@example.com"
app_license = "mit"
required_apps = []

# Refuse a site where another app already owns one of our DocType names (ERPNext's Opportunity...)
before_install = "opportunity_suite.install.before_install"
after_install = "opportunity_suite.install.after_install"
after_migrate = "opportunity_suite.install.after_migrate"
before_tests = "opportunity_suite.install.before_tests"

# Frappe's four export paths, wrapped to neutralise spreadsheet formulas in the app's data
override_whitelisted_methods = {
	"frappe.desk.reportview.export_query": "opportunity_suite.api.exporting.export_query",
	"frappe.desk.query_report.export_query": "opportunity_suite.api.exporting.export_report",
	"frappe.core.doctype.data_import.data_import.download_template": "opportunity_suite.api.exporting.download_template",
	"frappe.core.doctype.data_export.exporter.export_data": "opportunity_suite.api.exporting.export_data",
}

# Opportunity Import's watchdog: resume runs left Running by a killed worker
scheduler_events = {
	"all": ["opportunity_suite.services.importing.jobs.resume_stalled_imports"],
}
