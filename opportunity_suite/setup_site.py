"""First-run setup of the product's site, so that the desk opens without Frappe's setup wizard.

Frappe's wizard also creates a user; a fresh product site only needs its regional settings, taken
from the machine (time zone) or from the environment (OS_COUNTRY, OS_CURRENCY, OS_LANGUAGE, OS_TIME_ZONE;
the country's currency and formats unless OS_CURRENCY says otherwise), and an
outgoing e-mail account (OS_SMTP_HOST, OS_SMTP_PORT, OS_SMTP_USER, OS_SMTP_PASSWORD, OS_MAIL_FROM)."""

import os
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import frappe


def _machine_time_zone() -> str:
	if os.environ.get("OS_TIME_ZONE"):
		return os.environ["OS_TIME_ZONE"]
	try:
		return Path("/etc/timezone").read_text().strip() or "UTC"
	except OSError:
		return "UTC"


def apply_regional_settings(settings):
	"""System Settings' regional fields as Frappe's setup wizard sets them for the site's country
	(OS_COUNTRY, else the site's, else United States): its currency, date, time and number formats; then
	OS_CURRENCY and OS_LANGUAGE when given, and the machine's time zone (or OS_TIME_ZONE). Not saved."""
	from frappe.geo.country_info import get_country_info

	settings.country = os.environ.get("OS_COUNTRY") or settings.country or "United States"
	country = get_country_info(settings.country) or {}
	number_format = country.get("number_format") or "#,###.##"
	# as the wizard does: a currency's format without decimals is no format for floats
	number_format = {"#.###": "#.###,##", "#,###": "#,###.##"}.get(number_format, number_format)
	formats = frappe.db.get_value("Country", settings.country, ["date_format", "time_format"], as_dict=True)
	settings.update(
		{
			"currency": os.environ.get("OS_CURRENCY")
			or country.get("currency")
			or settings.currency
			or "USD",
			"date_format": (formats and formats.date_format) or country.get("date_format") or "dd-mm-yyyy",
			"time_format": (formats and formats.time_format) or "HH:mm:ss",
			"number_format": number_format,
			"language": os.environ.get("OS_LANGUAGE") or settings.language or "en",
			"time_zone": _machine_time_zone(),
		}
	)
	if frappe.db.exists("Currency", settings.currency):
		frappe.db.set_value("Currency", settings.currency, "enabled", 1)


def complete_setup_if_needed():
	if frappe.db.get_single_value("System Settings", "setup_complete"):
		repair_scheduled_jobs_in_the_future()  # a site set up before the zone was repaired
		frappe.db.commit()
		return
	from frappe.desk.page.setup_wizard.install_fixtures import install as install_fixtures
	from frappe.desk.page.setup_wizard.setup_wizard import disable_future_access

	settings = frappe.get_single("System Settings")
	install_zone = settings.time_zone or "Asia/Kolkata"  # Frappe installs a site in Asia/Kolkata
	apply_regional_settings(settings)
	settings.save()
	from opportunity_suite.services.alerts.example import localize_example_rule

	localize_example_rule(settings.language)
	install_fixtures()
	disable_future_access()
	from opportunity_suite.install import ensure_default_currency

	ensure_default_currency()
	repair_times_after_zone_change(install_zone, settings.time_zone)
	frappe.db.commit()


def repair_times_after_zone_change(old_zone: str, new_zone: str):
	"""What the install wrote in `old_zone`'s wall-clock time, moved to `new_zone`'s: records created in
	Asia/Kolkata lie 5½ h ahead of a UTC site's clock, and so does every Scheduled Job Type's next run
	(Frappe counts from `last_execution or creation`): the scheduler would run nothing for 5½ h.
	For a fresh site only (the first-run setup); raw SQL, because every table's timestamps move."""
	if old_zone == new_zone:
		return
	now = datetime.now(ZoneInfo(new_zone))
	now_here = now.replace(tzinfo=None)  # the new zone's wall clock (the request may cache the old zone)
	shift = (now.astimezone(ZoneInfo(old_zone)).utcoffset() - now.utcoffset()).total_seconds()
	if shift > 0:  # only times the machine's clock hasn't reached yet are wrong for certain
		for table in frappe.db.get_tables(cached=False):
			columns = set(frappe.db.get_table_columns(table[3:])) if table.startswith("tab") else set()
			for column in ("creation", "modified"):
				if column in columns:
					frappe.db.sql(
						f"UPDATE `{table}` SET `{column}` = `{column}` - INTERVAL %(s)s SECOND "
						f"WHERE `{column}` > %(now)s",
						{"s": int(shift), "now": now_here},
					)
	# every scheduled job counts from now: it runs at its next due time on the new clock
	job = frappe.qb.DocType("Scheduled Job Type")
	frappe.qb.update(job).set(job.last_execution, now_here).run()


def repair_scheduled_jobs_in_the_future():
	"""Scheduled Job Types whose last run (or creation, when they never ran) lies ahead of the site's clock
	would not run until then: they count from now instead."""
	now = frappe.utils.now_datetime()
	job = frappe.qb.DocType("Scheduled Job Type")
	frappe.qb.update(job).set(job.last_execution, now).where(
		(job.last_execution > now) | (job.last_execution.isnull() & (job.creation > now))
	).run()


def configure_outgoing_email():
	"""The site's default outgoing Email Account from OS_SMTP_HOST, OS_SMTP_PORT, OS_SMTP_USER,
	OS_SMTP_PASSWORD and OS_MAIL_FROM (made, or brought up to date: run it again at any time). Called by
	scripts/setup with `bench execute`; the password comes from the environment, never the command line."""
	from opportunity_suite.services.alerts.outgoing import ACCOUNT_NAME

	host = os.environ.get("OS_SMTP_HOST", "").strip()
	if not host:
		raise SystemExit("OS_SMTP_HOST is not set: no outgoing e-mail account configured")
	port = int(os.environ.get("OS_SMTP_PORT") or 587)
	user = os.environ.get("OS_SMTP_USER", "").strip()
	password = os.environ.get("OS_SMTP_PASSWORD", "")
	sender = os.environ.get("OS_MAIL_FROM", "").strip() or (user if "@" in user else f"notifications@{host}")
	if frappe.db.exists("Email Account", ACCOUNT_NAME):
		account = frappe.get_doc("Email Account", ACCOUNT_NAME)
	else:
		account = frappe.new_doc("Email Account")
		account.email_account_name = ACCOUNT_NAME
	account.update(
		{
			"email_id": sender,
			"enable_outgoing": 1,
			"default_outgoing": 1,
			"enable_incoming": 0,
			"smtp_server": host,
			"smtp_port": port,
			"use_ssl_for_outgoing": int(port == 465),
			"use_tls": int(port == 587),
			"login_id_is_different": int(bool(user) and user != sender),
			"login_id": user if user and user != sender else None,
			"no_smtp_authentication": int(not user),
			"awaiting_password": 0,
		}
	)
	if user:
		account.password = password
	account.flags.ignore_permissions = True
	account.save()
	# the only default outgoing account: Frappe would pick any of several
	others = frappe.get_all("Email Account", filters={"default_outgoing": 1, "name": ("!=", account.name)})
	for other in others:
		frappe.db.set_value("Email Account", other.name, "default_outgoing", 0)
	frappe.db.commit()
	print(f"outgoing e-mail: {sender} through {host}:{port}")


def product_run_mode():
	"""The product site shows no traceback of a failed request to its callers (Frappe's "Show Full
	Error", on by default): the Error Log keeps them for a System Manager. Run by scripts/setup at every
	set-up (the test site keeps Frappe's default; services/tracebacks.py limits it to System Managers)."""
	if frappe.db.get_single_value("System Settings", "allow_error_traceback"):
		settings = frappe.get_single("System Settings")
		settings.allow_error_traceback = 0
		settings.save()


def production_settings(max_file_size: int, backup_limit: int):
	"""The product site's settings for production, run by scripts/setup (production.sh) at every set-up:
	no developer mode, uploads up to `max_file_size` bytes (an import file), the default site served to
	any host name, and `backup_limit` backup files kept by Frappe's daily clean-up (it counts files, and a
	backup with files is four of them)."""
	from frappe.installer import update_site_config

	update_site_config("developer_mode", 0)
	update_site_config("max_file_size", int(max_file_size))
	update_site_config(
		"serve_default_site", True, site_config_path=frappe.get_site_path("..", "common_site_config.json")
	)
	frappe.db.set_single_value("System Settings", "backup_limit", int(backup_limit))
	frappe.db.commit()
