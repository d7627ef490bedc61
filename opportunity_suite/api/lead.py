"""Lead conversion over REST and from the Lead form."""

import frappe

from opportunity_suite.services import lead_conversion


@frappe.whitelist(methods=["POST"])
def convert_lead(
	lead: str,
	opportunity_name: str | None = None,
	sales_stage: str | None = None,
	expected_close_date: str | None = None,
	amount: float | None = None,
) -> str:
	"""Convert `lead` into an organization, a contact and an opportunity; returns the opportunity's name.

	Needs write rights on the lead and create rights on Opportunity (and on Organization / Contact when
	new ones are made)."""
	frappe.has_permission("Lead", "write", doc=lead, throw=True)
	frappe.has_permission("Opportunity", "create", throw=True)
	return lead_conversion.convert_lead(
		lead,
		opportunity_name=opportunity_name,
		sales_stage=sales_stage,
		expected_close_date=expected_close_date,
		amount=amount,
	)
