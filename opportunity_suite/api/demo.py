"""Sample data for a first run (services/demo.py): the workspace's "Load sample data" and "Remove sample
data", for System Managers."""

import frappe

from opportunity_suite.services import demo


@frappe.whitelist(methods=["GET"])
def sample_data_status() -> dict:
	"""{loaded, counts, empty}: what the workspace offers a System Manager."""
	demo.check_permission()
	return demo.status()


@frappe.whitelist(methods=["POST"])
def load_sample_data() -> dict:
	"""Fill the site with the sample pipeline; returns what was made, by DocType."""
	demo.check_permission()
	return demo.load_sample_data()


@frappe.whitelist(methods=["POST"])
def remove_sample_data() -> dict:
	"""Delete exactly what load_sample_data made; returns {deleted, kept}."""
	demo.check_permission()
	return demo.remove_sample_data()
