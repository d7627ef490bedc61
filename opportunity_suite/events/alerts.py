"""doc_events adapters for alert rules (hooks.py): a few lines each, the work is in services/alerts."""

import frappe

from opportunity_suite.services.alerts import run_rules_for_document


def _skip() -> bool:
	flags = frappe.flags
	return bool(flags.in_install or flags.in_patch or flags.in_migrate or flags.in_setup_wizard)


def after_insert(doc, method=None):
	if not _skip():
		run_rules_for_document(doc, "insert")


def on_update(doc, method=None):
	# on insert, Frappe runs on_update right after after_insert: the creation is handled there
	if not _skip() and not doc.flags.in_insert:
		run_rules_for_document(doc, "update")
