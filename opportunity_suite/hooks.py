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

# Frappe's Contact links to Organizations and Leads only (see services/contacts.py)
doc_events = {
	"Contact": {"validate": "opportunity_suite.services.contacts.validate_contact_links"},
}

# form scripts shared by several of the app's forms (product/service lines, duplicate warnings), and the
# opportunity's related lists and create buttons
doctype_js = {
	"Opportunity": ["public/js/line_items.js", "public/js/opportunity_records.js"],
	"Quote": "public/js/line_items.js",
	"Sales Order": "public/js/line_items.js",
	"Organization": "public/js/duplicates.js",
	"Lead": "public/js/duplicates.js",
	"Contact": "public/js/contact.js",
}
