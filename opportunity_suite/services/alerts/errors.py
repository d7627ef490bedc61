"""Errors of the alert service: every one is a ValidationError with a message for the rule's author."""

import frappe


class AlertRuleError(frappe.ValidationError):
	"""A rule that cannot be saved or run as it stands."""


class UnknownFieldError(AlertRuleError):
	pass


class UnknownOperatorError(AlertRuleError):
	pass


class InvalidConditionValueError(AlertRuleError):
	pass


class TemplateRefusedError(AlertRuleError):
	pass


class TemplateBoundError(AlertRuleError):
	"""A template that renders too slowly or too large (or would build a value too large)."""


class RecipientError(AlertRuleError):
	pass


class ForbiddenUpdateFieldError(AlertRuleError):
	pass


class DocTypeNotAllowedError(AlertRuleError):
	pass


class AlertActionError(AlertRuleError):
	"""One or more of a rule's actions failed when it fired (the others went through)."""
