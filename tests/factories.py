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


def bulk_make_opportunities(count: int, prefix: str) -> None:
	"""Insert `count` opportunities straight into the table (no controller), names `{prefix}-0000001`...,
	amount = i, probability = i % 101, stale forecast values (-1), currency = the default. Committed.
	For the bulk recompute's tests and benchmark, which need many rows fast: one INSERT ... SELECT over
	MariaDB's built-in sequence table `seq_1_to_N` (raw SQL: frappe.qb knows no sequence tables)."""
	from frappe.utils import now_datetime

	from opportunity_suite.services.forecast import get_settings

	count = int(count)
	frappe.db.sql(
		f"""
		INSERT INTO `tabOpportunity` (name, creation, modified, owner, modified_by, docstatus,
			opportunity_name, amount, currency, exchange_rate, probability, forecast_amount,
			base_forecast_amount, sales_stage, status, expected_close_date, assigned_to)
		SELECT CONCAT(%(prefix)s, '-', LPAD(seq, 7, '0')), %(now)s, %(now)s, 'Administrator',
			'Administrator', 0, CONCAT('Bulk ', seq), seq, %(currency)s, 1, seq %% 101, -1, -1,
			'Prospecting', 'Open', %(close)s, 'Administrator'
		FROM seq_1_to_{count}
		""",
		{
			"prefix": prefix,
			"now": now_datetime(),
			"currency": get_settings().default_currency,
			"close": add_days(today(), 30),
		},
	)
	_refresh_totals_of(prefix)
	frappe.db.commit()


def _refresh_totals_of(prefix: str) -> None:
	"""What code writing `tabOpportunity` by raw SQL does: the pre-aggregated totals of those rows."""
	from opportunity_suite.services import totals

	totals.refresh_like(f"{prefix}-%")


def delete_bulk_opportunities(prefix: str) -> None:
	frappe.db.delete("Opportunity", {"name": ("like", f"{prefix}-%")})
	_refresh_totals_of(prefix)
	frappe.db.commit()


def make_picklist_value(picklist: str, prefix: str = "Value", **values) -> "frappe.model.document.Document":
	"""A new Opportunity Type or Lead Source record with a unique name."""
	from opportunity_suite.services.picklists import NAME_FIELDS

	return frappe.get_doc({"doctype": picklist, NAME_FIELDS[picklist]: unique(prefix), **values}).insert()
