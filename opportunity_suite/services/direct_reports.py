"""Reports that always open directly, never as a background "prepared report".

Frappe's watchdog (Report.execute_script_report) switches a script report to `prepared_report` for good
after one run longer than 15 s, by a raw `db.set_value` that no hook sees. The app's reports are built to
be fast and read live; a queued report with a "Generate New Report" button reads as broken. So the Report
class (overrides/report.py) skips the watchdog for these reports, a save keeps the flag off, and a flag
already set in the database is taken back on load and on migrate.
"""

import frappe

DIRECT_REPORTS = frozenset({"Opportunity Forecast", "Time in Stage", "Win Loss", "Forecast Accuracy"})


def is_direct(report_name: str | None) -> bool:
	return report_name in DIRECT_REPORTS


def keep_direct(doc) -> None:
	"""Turn a direct report's prepared flag back off (in memory, and in the database if it was set)."""
	if not is_direct(doc.name) or not doc.get("prepared_report"):
		return
	doc.prepared_report = 0
	if not doc.is_new():
		frappe.db.set_value("Report", doc.name, "prepared_report", 0, update_modified=False)


def reset_all() -> None:
	"""After migrate: every direct report that exists is direct again."""
	for name in DIRECT_REPORTS:
		if frappe.db.exists("Report", name):
			frappe.db.set_value("Report", name, "prepared_report", 0, update_modified=False)
