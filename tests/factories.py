"""Typed factories for test data, with unique names."""

import frappe
from frappe.utils import add_days, today


def unique(prefix: str) -> str:
	return f"{prefix} {frappe.generate_hash(length=8)}"


def make_opportunity(**values) -> "frappe.model.document.Document":
	doc = frappe.get_doc(
		{
			"doctype": "Opportunity",
			"opportunity_name": unique("Deal"),
			"sales_stage": "Prospecting",
			"expected_close_date": add_days(today(), 30),
			**values,
		}
	)
	return doc.insert()


def make_user(*roles: str, email: str | None = None) -> str:
	email = email or f"{frappe.generate_hash(length=10)}@opportunity-suite.test"
	user = frappe.get_doc(
		{
			"doctype": "User",
			"email": email,
			"first_name": "Test",
			"send_welcome_email": 0,
			"roles": [{"role": role} for role in roles],
		}
	)
	user.insert(ignore_permissions=True)
	return user.name


def set_forecast_settings(**values):
	settings = frappe.get_single("Opportunity Settings")
	settings.update(values)
	settings.save()
	return settings
