"""First-run setup of the product's site, so that the desk opens without Frappe's setup wizard.

Frappe's wizard also creates a user; a fresh product site only needs its regional settings, taken
from the machine (time zone) or from the environment (OS_COUNTRY, OS_CURRENCY, OS_TIME_ZONE)."""

import os
from pathlib import Path

import frappe


def _machine_time_zone() -> str:
	if os.environ.get("OS_TIME_ZONE"):
		return os.environ["OS_TIME_ZONE"]
	try:
		return Path("/etc/timezone").read_text().strip() or "UTC"
	except OSError:
		return "UTC"


def complete_setup_if_needed():
	if frappe.db.get_single_value("System Settings", "setup_complete"):
		return
	from frappe.desk.page.setup_wizard.install_fixtures import install as install_fixtures
	from frappe.desk.page.setup_wizard.setup_wizard import disable_future_access

	settings = frappe.get_single("System Settings")
	settings.country = os.environ.get("OS_COUNTRY") or settings.country or "United States"
	settings.time_zone = _machine_time_zone()
	settings.currency = os.environ.get("OS_CURRENCY") or settings.currency or "USD"
	settings.language = settings.language or "en"
	settings.save()
	install_fixtures()
	disable_future_access()
	from opportunity_suite.install import ensure_default_currency

	ensure_default_currency()
	frappe.db.commit()


def product_run_mode():
	"""The product site shows no traceback of a failed request to its callers (Frappe's "Show Full
	Error", on by default): the Error Log keeps them for a System Manager. Run by scripts/setup at every
	set-up (the test site keeps Frappe's default; services/tracebacks.py limits it to System Managers)."""
	if frappe.db.get_single_value("System Settings", "allow_error_traceback"):
		settings = frappe.get_single("System Settings")
		settings.allow_error_traceback = 0
		settings.save()
