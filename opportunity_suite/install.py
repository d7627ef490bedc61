"""Install hooks: the guard against DocType name clashes, and the app's default records."""

import json
from pathlib import Path

import frappe
from frappe import _

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


def after_install():
	from opportunity_suite.services.contacts import ensure_default_address_template
	from opportunity_suite.services.project_mapping import ensure_default_mapping
	from opportunity_suite.services.stages import ensure_default_stages

	ensure_default_stages()
	ensure_default_address_template()
	ensure_default_mapping()


def after_migrate():
	from opportunity_suite.services.contacts import ensure_default_address_template
	from opportunity_suite.services.project_mapping import ensure_default_mapping
	from opportunity_suite.services.stages import ensure_default_stages

	ensure_default_stages()
	ensure_default_address_template()
	ensure_default_mapping()


def before_tests():
	frappe.clear_cache()
	from frappe.utils.install import complete_setup_wizard

	if not frappe.db.get_single_value("System Settings", "setup_complete"):
		complete_setup_wizard()
	frappe.db.commit()
