"""Install hooks: the guard against DocType name clashes, and the app's default records."""

import json
from pathlib import Path

import frappe
from frappe import _

from opportunity_suite.services.indexes import ensure_indexes

APP = "opportunity_suite"


class DocTypeNameClash(frappe.ValidationError):
	pass


def app_doctype_names() -> list[str]:
	"""The DocTypes this app ships, read from their JSON definitions on disk."""
	root = Path(frappe.get_app_path(APP))
	names = []
	for path in sorted(root.glob("*/doctype/*/*.json")):
		if path.parent.name != path.stem:
			continue
		definition = json.loads(path.read_text())
		if definition.get("doctype") == "DocType":
			names.append(definition["name"])
	return names


def app_modules() -> set[str]:
	return set(frappe.get_module_list(APP))


def find_doctype_clashes(names: list[str], own_modules: set[str]) -> list[tuple[str, str, str]]:
	"""(doctype, module, app) for each name already owned by a module that is not ours."""
	if not names:
		return []
	rows = frappe.get_all("DocType", filters={"name": ("in", names)}, fields=["name", "module"])
	clashes = []
	for row in rows:
		if row.module in own_modules:
			continue
		owner = frappe.db.get_value("Module Def", row.module, "app_name") or _("custom")
		clashes.append((row.name, row.module, owner))
	return clashes


def assert_no_doctype_clashes(names: list[str] | None = None, own_modules: set[str] | None = None):
	names = app_doctype_names() if names is None else names
	own_modules = app_modules() if own_modules is None else own_modules
	clashes = find_doctype_clashes(names, own_modules)
	if clashes:
		lines = ", ".join(
			_("{0} (module {1}, app {2})").format(name, module, app) for name, module, app in clashes
		)
		frappe.throw(
			_(
				"Opportunity Suite cannot be installed on this site: another app already owns DocTypes it "
				"needs: {0}. It is meant for sites without ERPNext; nothing was changed."
			).format(lines),
			exc=DocTypeNameClash,
			title=_("DocType name clash"),
		)


def before_install():
	assert_no_doctype_clashes()


def ensure_global_search_doctypes():
	"""Offer the app's DocTypes in the desk's global search (Frappe only reads the hook at site setup)."""
	wanted = [
		row["doctype"] for row in frappe.get_hooks("global_search_doctypes", app_name=APP).get("Default", [])
	]
	settings = frappe.get_single("Global Search Settings")
	present = {row.document_type for row in settings.allowed_in_global_search}
	missing = [dt for dt in wanted if dt not in present and frappe.db.exists("DocType", dt)]
	if missing:
		for doctype in missing:
			settings.append("allowed_in_global_search", {"document_type": doctype})
		settings.save(ignore_permissions=True)


def ensure_default_currency():
	"""Show the currency the forecast's base amounts use: the site's currency until a manager picks one."""
	site_currency = frappe.db.get_default("currency")
	if site_currency and not frappe.db.get_single_value("Opportunity Settings", "default_currency"):
		frappe.db.set_single_value("Opportunity Settings", "default_currency", site_currency)


def ensure_defaults():
	"""The app's default records, created when missing (idempotent): at install and after every migrate."""
	from opportunity_suite.services.alerts.example import ensure_example_rule
	from opportunity_suite.services.contacts import ensure_default_address_template, ensure_vcard_fields
	from opportunity_suite.services.desk import ensure_desk_records
	from opportunity_suite.services.picklists import ensure_picklists
	from opportunity_suite.services.project_mapping import ensure_default_mapping
	from opportunity_suite.services.roles import ensure_role_permissions
	from opportunity_suite.services.stages import ensure_default_stages
	from opportunity_suite.services.stale import ensure_stale_rule
	from opportunity_suite.services.visibility import ensure_reports_to_field

	ensure_default_stages()
	ensure_picklists()
	ensure_global_search_doctypes()
	ensure_default_currency()
	ensure_default_address_template()
	ensure_vcard_fields()
	ensure_default_mapping()
	ensure_example_rule()
	ensure_stale_rule()
	ensure_desk_records()
	ensure_reports_to_field()
	ensure_role_permissions()
	from opportunity_suite.services.search import ensure_search_index

	ensure_search_index()  # the infix search's window index


def after_install():
	ensure_defaults()
	ensure_indexes()
	from opportunity_suite.services.totals import ensure_totals

	ensure_totals()


def after_migrate():
	ensure_defaults()
	ensure_indexes()
	from opportunity_suite.services.totals import ensure_totals

	ensure_totals()
	from opportunity_suite.services.direct_reports import reset_all

	reset_all()


def before_tests():
	frappe.clear_cache()
	from frappe.utils.install import complete_setup_wizard

	if not frappe.db.get_single_value("System Settings", "setup_complete"):
		complete_setup_wizard()
	frappe.db.commit()
