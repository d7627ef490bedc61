"""Alert rules as plain data: loaded per DocType, cached in frappe.cache, validated at save."""

import frappe
from frappe import _

from opportunity_suite.services.alerts import conditions as cond
from opportunity_suite.services.alerts import templates
from opportunity_suite.services.alerts.errors import AlertRuleError, ForbiddenUpdateFieldError
from opportunity_suite.services.alerts.fields import DERIVED_FIELDS, assert_doctype_allowed, require_field
from opportunity_suite.services.alerts.recipients import validate_recipient_settings

CACHE_KEY = "opportunity_suite:alert_rules"
CACHE_SECONDS = 600
SCHEDULED = "On Schedule"
TRIGGERS = ("On First Save", "Until First True", "Every Save", "Every Modification", SCHEDULED)
ACTION_TYPES = ("Email", "Notification", "ToDo", "Update Field")
FREQUENCIES = ("Hourly", "Daily", "Weekly", "Monthly")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
ACTION_FIELDS = (
	"action_type",
	"recipient_users",
	"recipient_roles",
	"recipient_fields",
	"recipient_addresses",
	"subject",
	"message",
	"todo_due_in_days",
	"update_field",
	"update_value",
)
RULE_FIELDS = (
	"name",
	"document_type",
	"trigger",
	"condition_match",
	"owner",
	"consecutive_failures",
	"schedule_frequency",
	"schedule_time",
	"schedule_minute",
	"schedule_day_of_month",
	"creation",
	*WEEKDAYS,
)


# ---------------------------------------------------------------- loading and caching


def load_rules(doctype: str | None = None, scheduled: bool = False) -> list[dict]:
	"""Enabled rules as plain dicts with their `conditions` and `actions` rows, in name order."""
	filters = {"enabled": 1, "trigger": SCHEDULED if scheduled else ("!=", SCHEDULED)}
	if doctype:
		filters["document_type"] = doctype
	rules = frappe.get_all("Alert Rule", filters=filters, fields=list(RULE_FIELDS), order_by="name")
	if not rules:
		return []
	names = [rule.name for rule in rules]
	conditions = frappe.get_all(
		"Alert Rule Condition",
		filters={"parent": ("in", names), "parenttype": "Alert Rule"},
		fields=["parent", "fieldname", "operator", "value", "value2"],
		order_by="idx",
	)
	actions = frappe.get_all(
		"Alert Rule Action",
		filters={"parent": ("in", names), "parenttype": "Alert Rule"},
		fields=["parent", *ACTION_FIELDS],
		order_by="idx",
	)
	by_rule = {rule.name: dict(rule, conditions=[], actions=[]) for rule in rules}
	for row in conditions:
		by_rule[row.parent]["conditions"].append(
			cond.Condition(row.fieldname, row.operator, row.value, row.value2)
		)
	for row in actions:
		by_rule[row.parent]["actions"].append({f: row.get(f) for f in ACTION_FIELDS})
	return list(by_rule.values())


def get_rules(doctype: str) -> list[dict]:
	"""The enabled save-triggered rules of a DocType, cached (per request in memory, across in Redis).
	A transaction that changed a rule reads them from the database until it ends: rules not committed
	never reach the shared cache."""
	if getattr(frappe.local, "opportunity_suite_rules_changed", False):
		return load_rules(doctype)
	return frappe.cache.hget(CACHE_KEY, doctype, generator=lambda: _load_for_cache(doctype))


def _load_for_cache(doctype: str) -> list[dict]:
	rules = load_rules(doctype)
	# a bound on staleness should a process die between a rule change and its transaction's end
	frappe.cache.hset(CACHE_KEY, doctype, rules)
	frappe.cache.expire(frappe.cache.make_key(CACHE_KEY), CACHE_SECONDS)
	return rules


def clear_rules_cache():
	frappe.cache.delete_value(CACHE_KEY)


def _transaction_ended():
	frappe.local.opportunity_suite_rules_changed = False
	clear_rules_cache()


def clear_rules_cache_on_change():
	"""A rule changed in this transaction: clear the cache now and when the transaction ends (a commit
	must not leave a stale copy cached by another request meanwhile)."""
	frappe.local.opportunity_suite_rules_changed = True
	clear_rules_cache()
	frappe.db.after_commit.add(_transaction_ended)
	frappe.db.after_rollback.add(_transaction_ended)


# ---------------------------------------------------------------- validation at save


def _throw(message: str, exc=AlertRuleError):
	frappe.throw(message, exc=exc, title=_("Invalid Alert Rule"))


def validate_rule(rule):
	"""Refuse, with a clear message, a rule that could not run: see the checks below."""
	assert_doctype_allowed(rule.document_type)
	doctype = rule.document_type
	if rule.trigger not in TRIGGERS:
		_throw(_("Unknown trigger {0}.").format(rule.trigger))
	rule.condition_match = rule.condition_match or "All"
	if rule.condition_match not in ("All", "Any"):
		_throw(_("Match must be All or Any."))
	scheduled = rule.trigger == SCHEDULED
	if scheduled:
		validate_schedule(rule)
	for row in rule.get("conditions") or []:
		row.fieldname = (row.fieldname or "").strip()
		cond.validate_condition(
			doctype, cond.Condition(row.fieldname, row.operator, row.value, row.value2), scheduled
		)
	actions = rule.get("actions") or []
	if not actions:
		_throw(_("An alert rule needs at least one action."))
	for row in actions:
		validate_action(doctype, row)


def validate_schedule(rule):
	if rule.schedule_frequency not in FREQUENCIES:
		_throw(_("A scheduled rule needs a frequency: {0}.").format(", ".join(FREQUENCIES)))
	if rule.schedule_frequency == "Hourly" and not 0 <= (rule.schedule_minute or 0) <= 59:
		_throw(_("Minute past the hour must be between 0 and 59."))
	if rule.schedule_frequency != "Hourly" and not rule.schedule_time:
		rule.schedule_time = "00:00:00"
	if rule.schedule_frequency == "Weekly" and not any(rule.get(day) for day in WEEKDAYS):
		_throw(_("A weekly rule needs at least one day of the week."))
	if rule.schedule_frequency == "Monthly" and not 1 <= (rule.schedule_day_of_month or 0) <= 31:
		_throw(_("Day of month must be between 1 and 31."))


def update_target(doctype: str, fieldname: str):
	"""The field an Update Field action may write; derived, read-only and table fields are refused."""
	field = require_field(doctype, fieldname)
	if field.fieldname in DERIVED_FIELDS or field.read_only or field.kind not in cond.ALL_KINDS:
		_throw(
			_("{0} can't be updated by an alert rule: it is computed or read-only.").format(
				frappe.bold(field.label)
			),
			exc=ForbiddenUpdateFieldError,
		)
	if field.fieldname in ("name", "owner", "creation", "modified", "modified_by", "docstatus"):
		_throw(
			_("{0} can't be updated by an alert rule.").format(field.fieldname), exc=ForbiddenUpdateFieldError
		)
	return field


def update_value(doctype: str, fieldname: str, raw):
	"""The typed value an Update Field action writes."""
	field = update_target(doctype, fieldname)
	value = cond.parse_value(field, raw, "Equals")
	if field.fieldtype == "Int" or field.fieldtype == "Check":
		value = int(value)
	if field.fieldtype == "Link" and value and field.options and not frappe.db.exists(field.options, value):
		_throw(_("{0} {1} does not exist.").format(_(field.options), frappe.bold(value)))
	return value


def validate_action(doctype: str, row):
	action = row.action_type
	if action not in ACTION_TYPES:
		_throw(_("Unknown action {0}.").format(action))
	if action == "Update Field":
		if not row.update_field:
			_throw(_("Update Field: choose the field to update."))
		update_value(doctype, row.update_field.strip(), row.update_value)
		return
	if not validate_recipient_settings(doctype, row):
		_throw(_("Row {0} ({1}): choose at least one recipient.").format(row.idx, _(action)))
	if action in ("Email", "Notification") and not (row.subject or "").strip():
		_throw(_("Row {0} ({1}): a subject is required.").format(row.idx, _(action)))
	if action == "ToDo" and not ((row.subject or "").strip() or (row.message or "").strip()):
		_throw(_("Row {0} (ToDo): a subject or message is required.").format(row.idx))
	templates.check_templates((row.subject, row.message), doctype)
