"""Frappe's Report, kept direct for the app's reports (services/direct_reports.py)."""

from frappe.core.doctype.report.report import Report

from opportunity_suite.services.direct_reports import is_direct, keep_direct


class DirectReport(Report):
	def load_from_db(self):
		super().load_from_db()
		keep_direct(self)

	def validate(self):
		keep_direct(self)
		super().validate()

	def execute_script_report(self, filters):
		if not is_direct(self.name):
			return super().execute_script_report(filters)
		# Frappe starts its watchdog only for a report not yet prepared: look prepared while it runs
		self.prepared_report = 1
		try:
			return super().execute_script_report(filters)
		finally:
			self.prepared_report = 0
