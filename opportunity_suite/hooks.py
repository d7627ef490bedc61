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

# The desk's global search offers these (Frappe reads the hook when it sets up a site; install.py adds
# them to an existing site's Global Search Settings)
global_search_doctypes = {"Default": [{"doctype": "Opportunity"}]}

doc_events = {
	"ToDo": {
		"on_update": "opportunity_suite.events.todo.on_update",
		"after_delete": "opportunity_suite.events.todo.after_delete",
	},
}

# Frappe's unassign clears a field named assigned_to whoever is removed; ours puts back who is still assigned
override_whitelisted_methods = {
	"frappe.desk.form.assign_to.remove": "opportunity_suite.api.assignment.remove",
	"frappe.desk.form.assign_to.close": "opportunity_suite.api.assignment.close",
	"frappe.desk.form.assign_to.remove_multiple": "opportunity_suite.api.assignment.remove_multiple",
}
