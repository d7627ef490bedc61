"""Convert a Lead into an Organization, a Contact and an Opportunity, in one transaction.

- The organization comes from the lead's company: an existing one with the same name (trimmed, any case)
  is reused; a lead without a company gets no organization and the opportunity is named after the person.
- The contact is the existing one with the lead's email if there is one (it gains links to the
  organization and the lead), else a new Contact linked to the organization and the lead.
- The opportunity is mapped from the lead through `get_mapped_doc` with LEAD_TO_OPPORTUNITY (same-named
  fields, custom ones included, are copied too) and keeps the link back to the lead.
- The lead is marked Converted with a link to the opportunity.

The lead's row is locked (SELECT ... FOR UPDATE) first, so two conversions at once are serialised and the
second one finds the lead converted. A failure rolls back to a savepoint taken at the start: nothing is
left half-created, and an outer transaction is left as it was."""

import frappe
from frappe import _
from frappe.model.mapper import get_mapped_doc
from frappe.utils import add_days, getdate, today

from opportunity_suite.services.contacts import add_link, find_contact_by_email
from opportunity_suite.services.duplicates import find_duplicates

DEFAULT_CLOSE_IN_DAYS = 30
SAVEPOINT = "opportunity_suite_lead_conversion"

# Lead field -> Opportunity field (besides the same-named fields get_mapped_doc copies by itself)
LEAD_TO_OPPORTUNITY = {
	"name": "lead",
	"description": "description",
	"lead_source": "lead_source",
	"assigned_to": "assigned_to",
}
# Lead fields never copied to the opportunity although an opportunity field has the same name
LEAD_NOT_MAPPED = ["status", "opportunity"]
LEAD_TO_ORGANIZATION = {"company_name": "organization_name", "assigned_to": "assigned_to"}


class LeadConversionError(frappe.ValidationError):
	pass


class AlreadyConvertedError(LeadConversionError):
	http_status_code = 409


def lock_lead(lead: str) -> frappe._dict:
	"""Lock the lead's row for this transaction and return its conversion state."""
	row = frappe.db.get_value("Lead", lead, ["name", "status", "opportunity"], as_dict=True, for_update=True)
	if not row:
		frappe.throw(_("Lead {0} not found.").format(lead), exc=frappe.DoesNotExistError)
	return row


def assert_convertible(row: frappe._dict):
	if row.opportunity or row.status == "Converted":
		frappe.throw(
			_("Lead {0} is already converted to {1}.").format(
				row.name, row.opportunity or _("an opportunity")
			),
			exc=AlreadyConvertedError,
			title=_("Already Converted"),
		)
	if row.status == "Junk":
		frappe.throw(
			_("Lead {0} is marked Junk and cannot be converted.").format(row.name),
			exc=LeadConversionError,
		)


def default_sales_stage() -> str:
	stage = frappe.get_all(
		"Opportunity Stage",
		filters={"disabled": 0, "stage_type": "Open"},
		order_by="sequence asc",
		pluck="name",
		limit=1,
	)
	if not stage:
		frappe.throw(
			_("There is no open Opportunity Stage to start the opportunity in."), exc=LeadConversionError
		)
	return stage[0]


def person_name(lead) -> str:
	return " ".join(part.strip() for part in (lead.first_name, lead.last_name) if part and part.strip())


def get_or_create_organization(lead) -> str | None:
	company = (lead.company_name or "").strip()
	if not company:
		return None
	existing = find_duplicates("Organization", company, limit=1)
	if existing:
		return existing[0]
	organization = frappe.new_doc("Organization")
	for source, target in LEAD_TO_ORGANIZATION.items():
		organization.set(
			target, (lead.get(source) or "").strip() if source == "company_name" else lead.get(source)
		)
	organization.insert()
	return organization.name


def get_or_create_contact(lead, organization: str | None) -> str:
	contact_name = find_contact_by_email(lead.email_id)
	if contact_name:
		if organization:
			add_link(contact_name, "Organization", organization)
		add_link(contact_name, "Lead", lead.name)
		return contact_name
	contact = frappe.new_doc("Contact")
	contact.first_name = (lead.first_name or "").strip()
	contact.last_name = (lead.last_name or "").strip()
	contact.company_name = organization and (lead.company_name or "").strip()
	if lead.email_id:
		contact.append("email_ids", {"email_id": lead.email_id.strip(), "is_primary": 1})
	if lead.phone:
		contact.append("phone_nos", {"phone": lead.phone, "is_primary_phone": 1})
	# the first link names the contact ("First Last-Organization"): the organization comes first
	if organization:
		contact.append("links", {"link_doctype": "Organization", "link_name": organization})
	contact.append("links", {"link_doctype": "Lead", "link_name": lead.name})
	contact.insert()
	return contact.name


def build_opportunity(
	lead,
	organization,
	contact,
	opportunity_name=None,
	sales_stage=None,
	expected_close_date=None,
	amount=None,
):
	def postprocess(source, target):
		target.opportunity_name = (
			(opportunity_name or "").strip() or (source.company_name or "").strip() or person_name(source)
		)
		target.organization = organization
		target.contact = contact
		target.sales_stage = sales_stage or default_sales_stage()
		target.expected_close_date = getdate(expected_close_date or add_days(today(), DEFAULT_CLOSE_IN_DAYS))
		if amount is not None:
			target.amount = amount
		# the lead's source is where it came from, even if that source has been disabled since
		target.flags.keep_picklist_values = True

	return get_mapped_doc(
		"Lead",
		lead.name,
		{
			"Lead": {
				"doctype": "Opportunity",
				"field_map": LEAD_TO_OPPORTUNITY,
				"field_no_map": LEAD_NOT_MAPPED,
			}
		},
		postprocess=postprocess,
	)


def convert_lead(
	lead: str,
	opportunity_name: str | None = None,
	sales_stage: str | None = None,
	expected_close_date: str | None = None,
	amount: float | None = None,
) -> str:
	"""Convert `lead`; returns the new opportunity's name. Raises and leaves nothing behind on failure."""
	frappe.db.savepoint(SAVEPOINT)
	try:
		assert_convertible(lock_lead(lead))
		doc = frappe.get_doc("Lead", lead)
		organization = get_or_create_organization(doc)
		contact = get_or_create_contact(doc, organization)
		opportunity = build_opportunity(
			doc, organization, contact, opportunity_name, sales_stage, expected_close_date, amount
		)
		opportunity.flags.history_via = "Lead Conversion"  # its stage history's first row says so
		opportunity.insert()
		doc.reload()
		doc.status = "Converted"
		doc.opportunity = opportunity.name
		doc.flags.converting = True
		doc.save()
	except Exception:
		frappe.db.rollback(save_point=SAVEPOINT)
		raise
	frappe.db.release_savepoint(SAVEPOINT)
	return opportunity.name
