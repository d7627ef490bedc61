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


def bulk_make_opportunities(count: int, prefix: str, chunk_size: int = 10_000) -> None:
	"""Insert `count` opportunities straight into the table (no controller), names `{prefix}-000001`...,
	amount = i, probability = i % 101, stale forecast values (-1), currency = the default. Committed.
	For the bulk recompute's tests and benchmark, which need many rows fast."""
	from frappe.utils import now_datetime

	from opportunity_suite.services.forecast import get_settings

	currency = get_settings().default_currency
	now = now_datetime()
	close = add_days(today(), 30)
	fields = [
		"name",
		"creation",
		"modified",
		"owner",
		"modified_by",
		"docstatus",
		"opportunity_name",
		"amount",
		"currency",
		"exchange_rate",
		"probability",
		"forecast_amount",
		"base_forecast_amount",
		"sales_stage",
		"status",
		"expected_close_date",
		"assigned_to",
	]
	rows = (
		(
			f"{prefix}-{i:07d}",
			now,
			now,
			"Administrator",
			"Administrator",
			0,
			f"Bulk {i}",
			i,
			currency,
			1,
			i % 101,
			-1,
			-1,
			"Prospecting",
			"Open",
			close,
			"Administrator",
		)
		for i in range(1, count + 1)
	)
	frappe.db.bulk_insert("Opportunity", fields, rows, chunk_size=chunk_size)
	frappe.db.commit()


def delete_bulk_opportunities(prefix: str) -> None:
	frappe.db.delete("Opportunity", {"name": ("like", f"{prefix}-%")})
	frappe.db.commit()
