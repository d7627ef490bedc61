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

# Alert rules (services/alerts): the app's DocTypes they watch; a DocType that doesn't exist yet never fires
doc_events = {
	"Opportunity": {
		"after_insert": "opportunity_suite.events.alerts.after_insert",
		"on_update": "opportunity_suite.events.alerts.on_update",
	},
	"Lead": {
		"after_insert": "opportunity_suite.events.alerts.after_insert",
		"on_update": "opportunity_suite.events.alerts.on_update",
	},
	"Organization": {
		"after_insert": "opportunity_suite.events.alerts.after_insert",
		"on_update": "opportunity_suite.events.alerts.on_update",
	},
	"Quote": {
		"after_insert": "opportunity_suite.events.alerts.after_insert",
		"on_update": "opportunity_suite.events.alerts.on_update",
	},
	"Sales Order": {
		"after_insert": "opportunity_suite.events.alerts.after_insert",
		"on_update": "opportunity_suite.events.alerts.on_update",
	},
	"Project": {
		"after_insert": "opportunity_suite.events.alerts.after_insert",
		"on_update": "opportunity_suite.events.alerts.on_update",
	},
}

scheduler_events = {
	"cron": {
		"*/5 * * * *": ["opportunity_suite.services.alerts.run_scheduled_rules"],
	},
}
