"""Alert rules: Vtiger's workflow triggers and tasks on the app's records, delivered through Frappe's
Email Queue, Notification Log and ToDo.

- `run_rules_for_document(doc, "insert" | "update")`: from doc_events (events/alerts.py)
- `run_rules_for_imported_row(doc, is_new)`: from the app's importer, per written row
- `run_scheduled_rules(now=None)`: from the scheduler (hooks.py)
- `validate_rule(rule)`, `clear_rules_cache_on_change()`: from the Alert Rule controller
"""

from opportunity_suite.services.alerts.dispatcher import (
	changed_fields,
	reset_import_memory,
	run_rules_for_document,
	run_rules_for_imported_row,
)
from opportunity_suite.services.alerts.errors import (
	AlertRuleError,
	DocTypeNotAllowedError,
	ForbiddenUpdateFieldError,
	InvalidConditionValueError,
	RecipientError,
	TemplateRefusedError,
	UnknownFieldError,
	UnknownOperatorError,
)
from opportunity_suite.services.alerts.fields import allowed_doctypes
from opportunity_suite.services.alerts.rules import (
	clear_rules_cache,
	clear_rules_cache_on_change,
	get_rules,
	validate_rule,
)
from opportunity_suite.services.alerts.schedule import run_scheduled_rules

__all__ = [
	"AlertRuleError",
	"DocTypeNotAllowedError",
	"ForbiddenUpdateFieldError",
	"InvalidConditionValueError",
	"RecipientError",
	"TemplateRefusedError",
	"UnknownFieldError",
	"UnknownOperatorError",
	"allowed_doctypes",
	"changed_fields",
	"clear_rules_cache",
	"clear_rules_cache_on_change",
	"get_rules",
	"reset_import_memory",
	"run_rules_for_document",
	"run_rules_for_imported_row",
	"run_scheduled_rules",
	"validate_rule",
]
