"""Runs alert rules: after a save (from doc_events), per imported row, and on the scheduler.

A broken rule never blocks the user's save: its work is rolled back to a savepoint, the failure goes to the
Alert Log and Frappe's Error Log, and after 3 failures in a row the rule is switched off and its owner told.
"""

import frappe
from frappe import _
from frappe.utils import cint, flt, get_datetime, getdate, now_datetime

from opportunity_suite.services.alerts import actions as actions_
from opportunity_suite.services.alerts import conditions as cond
from opportunity_suite.services.alerts import delivery
from opportunity_suite.services.alerts.errors import AlertActionError
from opportunity_suite.services.alerts.fields import (
	BOOKKEEPING_FIELDS,
	DERIVED_FIELDS,
	NUMBER_TYPES,
	TABLE_TYPES,
)
from opportunity_suite.services.alerts.rules import clear_rules_cache, get_rules

MAX_FAILURES = 3
FIRED, FAILED = "Fired", "Failed"
SETTINGS = "Opportunity Settings"


# ---------------------------------------------------------------- per-request memory


def _local(name: str, factory):
	value = getattr(frappe.local, name, None)
	if value is None:
		value = factory()
		setattr(frappe.local, name, value)
	return value


def _in_progress() -> set:
	"""Records whose rules are running now: a save made by a rule (Update Field) doesn't re-enter."""
	return _local("opportunity_suite_alerts_running", set)


def _import_fired() -> set:
	"""(rule, doctype, name) fired during the current import: one firing per rule and record."""
	return _local("opportunity_suite_alerts_import_fired", set)


def reset_import_memory():
	"""The importer calls this when an import run starts."""
	frappe.local.opportunity_suite_alerts_import_fired = set()


def alerts_on_import() -> bool:
	return bool(cint(frappe.db.get_single_value(SETTINGS, "alerts_on_import")))


# ---------------------------------------------------------------- after a save


def run_rules_for_document(doc, event: str):
	"""Fire the rules of `doc`'s DocType for `event` ("insert" or "update"). Never raises for a rule."""
	rules = get_rules(doc.doctype)
	if not rules:
		return
	in_import = bool(frappe.flags.in_import)
	if in_import and not alerts_on_import():
		return
	key = (doc.doctype, doc.name)
	running = _in_progress()
	if key in running:
		return
	running.add(key)
	try:
		before = None if event == "insert" else doc.get_doc_before_save()
		modified = None
		for rule in rules:
			trigger = rule["trigger"]
			if event == "insert" and trigger == "Every Modification":
				continue
			if event == "update" and trigger == "On First Save":
				continue
			if trigger == "Every Modification":
				if modified is None:
					modified = bool(changed_fields(doc, before))
				if not modified:
					continue
			if in_import and (rule["name"], *key) in _import_fired():
				continue
			fired = run_rule(rule, doc, before)
			if fired and in_import:
				_import_fired().add((rule["name"], *key))
	finally:
		running.discard(key)


def run_rules_for_imported_row(doc, is_new: bool = True, before=None):
	"""For the app's importer, per written row (also rows it wrote without the controller): fires the rules
	as a save would, when Opportunity Settings' `alerts_on_import` is on; once per rule and record per
	import run (`reset_import_memory` starts a run). `before` is the row before an update, if known."""
	if not alerts_on_import():
		return
	if isinstance(doc, str | tuple):
		doctype, name = doc if isinstance(doc, tuple) else ("Opportunity", doc)
		doc = frappe.get_doc(doctype, name)
	if before is not None:
		doc._doc_before_save = before
	previous = frappe.flags.in_import
	frappe.flags.in_import = True
	try:
		run_rules_for_document(doc, "insert" if is_new else "update")
	finally:
		frappe.flags.in_import = previous


def changed_fields(doc, before) -> list[str]:
	"""Fields whose value differs between `before` and `doc`, ignoring bookkeeping (modified, modified_by)
	and derived fields (forecast amount, base amounts, status...). Child tables compare their rows' values."""
	if before is None:
		return []
	changed = []
	for df in doc.meta.fields:
		name = df.fieldname
		if name in BOOKKEEPING_FIELDS or name in DERIVED_FIELDS or name.startswith("base_"):
			continue
		if df.fieldtype in TABLE_TYPES:
			if _rows(doc.get(name)) != _rows(before.get(name)):
				changed.append(name)
		elif df.fieldtype in frappe.model.no_value_fields:
			continue
		elif not _same(df, doc.get(name), before.get(name)):
			changed.append(name)
	return changed


def _same(df, a, b) -> bool:
	if df.fieldtype in NUMBER_TYPES:
		return flt(a) == flt(b)
	if df.fieldtype == "Date":
		return (getdate(a) if a else None) == (getdate(b) if b else None)
	if df.fieldtype == "Datetime":
		return (get_datetime(a) if a else None) == (get_datetime(b) if b else None)
	return ("" if a is None else str(a)) == ("" if b is None else str(b))


def _rows(rows) -> list[tuple]:
	skip = BOOKKEEPING_FIELDS | {
		"name",
		"parent",
		"parentfield",
		"parenttype",
		"owner",
		"creation",
		"docstatus",
	}
	result = []
	for row in rows or []:
		values = row.as_dict() if hasattr(row, "as_dict") else dict(row)
		result.append(
			tuple(sorted((k, str(v)) for k, v in values.items() if k not in skip and v not in (None, "")))
		)
	return result


def run_rule(rule: dict, doc, before, due_period: str | None = None) -> bool:
	"""Evaluate and (when true and not yet remembered) fire one rule; True when it fired. Evaluating
	writes nothing; firing runs inside a savepoint so that a failure leaves no half-done alert."""
	messages = len(getattr(frappe.local, "message_log", None) or [])
	try:
		if not cond.evaluate(rule["conditions"], rule["condition_match"], doc, before, doc.doctype, doc.meta):
			return False
		if rule["trigger"] == "Until First True" and has_fired(rule["name"], doc.doctype, doc.name):
			return False
	except Exception as e:
		_forget_messages(messages)
		record_failure(rule, doc, e, due_period=due_period)
		return False
	savepoint = "alert_rule_" + frappe.generate_hash(length=8)
	frappe.db.savepoint(savepoint)
	try:
		# each action succeeds or fails on its own (a failed e-mail doesn't take the notification with it)
		outcome = actions_.run_actions(rule, doc)
		if outcome.updates:
			_apply_updates_alone(doc, outcome)
		log = None
		if outcome.did_something() or not outcome.failures:
			log = write_log(rule, doc, FIRED, outcome=outcome, due_period=due_period)
		if outcome.failures:
			_forget_messages(messages)
			error = AlertActionError("\n".join(outcome.failures))
			record_failure(rule, doc, error, due_period=due_period, log_error=False)
		if outcome.emails and log:
			# rendered and queued in a job, which also ends or counts the failure streak
			delivery.enqueue_emails(rule, doc, log.name, outcome.emails)
		elif not outcome.failures and cint(rule.get("consecutive_failures")):
			reset_failures(rule["name"])
		frappe.db.release_savepoint(savepoint)
		return outcome.did_something() or not outcome.failures
	except Exception as e:
		frappe.db.rollback(save_point=savepoint)
		_forget_messages(messages)
		record_failure(rule, doc, e, due_period=due_period)
		return False


def _apply_updates_alone(doc, outcome):
	savepoint = "alert_update_" + frappe.generate_hash(length=8)
	frappe.db.savepoint(savepoint)
	try:
		apply_updates(doc, outcome.updates)
		frappe.db.release_savepoint(savepoint)
	except Exception as e:
		frappe.db.rollback(save_point=savepoint)
		frappe.log_error(
			title=_("Alert Rule update failed"), reference_doctype=doc.doctype, reference_name=doc.name
		)
		outcome.failures.append(_("Update Field: {0}").format(frappe.utils.strip_html(str(e)) or repr(e)))
		outcome.updates = {}


def _forget_messages(keep: int):
	"""Drop the messages a failed rule left for the user (frappe.throw queues one): the save succeeded."""
	if getattr(frappe.local, "message_log", None):
		del frappe.local.message_log[keep:]


def has_fired(rule: str, doctype: str, name: str) -> bool:
	"""The per-record memory of "until first true", kept in the Alert Log (so it holds across restarts)."""
	return bool(
		frappe.db.exists(
			"Alert Log",
			{"alert_rule": rule, "reference_doctype": doctype, "reference_name": name, "outcome": FIRED},
		)
	)


def apply_updates(doc, updates: dict):
	"""Save the rule's field updates once, on a fresh copy, with the record marked as running so that
	this save fires no rule; then bring the caller's document up to date with what was saved."""
	fresh = frappe.get_doc(doc.doctype, doc.name)
	for fieldname, value in updates.items():
		fresh.set(fieldname, value)
	fresh.flags.ignore_permissions = True
	key = (doc.doctype, doc.name)
	running = _in_progress()
	added = key not in running
	running.add(key)
	try:
		fresh.save()
	finally:
		if added:
			running.discard(key)
	for df in fresh.meta.fields:
		if df.fieldtype not in frappe.model.no_value_fields:
			doc.set(df.fieldname, fresh.get(df.fieldname))
	doc.modified = fresh.modified


def write_log(
	rule: dict, doc, outcome_label: str, outcome=None, error: str = "", due_period: str | None = None
):
	values = {
		"doctype": "Alert Log",
		"alert_rule": rule["name"],
		"reference_doctype": doc.doctype,
		"reference_name": doc.name,
		"fired_on": now_datetime(),
		"trigger": rule["trigger"],
		"outcome": outcome_label,
		"due_period": due_period,
		"error": error,
	}
	if outcome is not None:
		values.update(
			email_queues="\n".join(outcome.email_queues),
			notification_logs="\n".join(outcome.notification_logs),
			todos="\n".join(outcome.todos),
			updated_fields="\n".join(f"{k} = {v}" for k, v in outcome.updates.items()),
		)
	return frappe.get_doc(values).insert(ignore_permissions=True)


# ---------------------------------------------------------------- failures


def record_failure(rule: dict, doc, error: Exception, due_period: str | None = None, log_error: bool = True):
	"""Alert Log + Error Log (unless the caller logged it); the rule is switched off after MAX_FAILURES in a
	row, with a notice to its owner."""
	message = str(error) or type(error).__name__
	if log_error:
		frappe.log_error(
			title=_("Alert Rule {0} failed").format(rule["name"]),
			reference_doctype=doc.doctype if doc else None,
			reference_name=doc.name if doc else None,
		)
	if doc is not None:
		write_log(rule, doc, FAILED, error=frappe.utils.strip_html(message), due_period=due_period)
	failures = cint(frappe.db.get_value("Alert Rule", rule["name"], "consecutive_failures")) + 1
	values = {"consecutive_failures": failures, "last_failure": frappe.utils.strip_html(message)[:1000]}
	if failures >= MAX_FAILURES:
		values["enabled"] = 0
	frappe.db.set_value("Alert Rule", rule["name"], values, update_modified=False)
	rule["consecutive_failures"] = failures
	if failures >= MAX_FAILURES:
		_notify_owner_disabled(rule, message)
	clear_rules_cache()


def reset_failures(rule: str):
	frappe.db.set_value("Alert Rule", rule, "consecutive_failures", 0, update_modified=False)
	clear_rules_cache()


def _notify_owner_disabled(rule: dict, message: str):
	owner = rule.get("owner") or "Administrator"
	frappe.get_doc(
		{
			"doctype": "Notification Log",
			"for_user": owner,
			"type": "Alert",
			"document_type": "Alert Rule",
			"document_name": rule["name"],
			"subject": _("Alert rule {0} was switched off after {1} failures in a row").format(
				frappe.utils.escape_html(rule["name"]), MAX_FAILURES
			),
			"email_content": frappe.utils.escape_html(message),
		}
	).insert(ignore_permissions=True)
