import frappe
import pytest

from tests.factories import make_opportunity
from tests.records_fixtures import make_organization


@pytest.mark.parametrize(
	"doctype, fields",
	[
		("Opportunity", {"opportunity_name", "sales_stage", "expected_close_date", "organization", "amount"}),
		("Organization", {"organization_name", "industry", "website", "phone", "email"}),
		("Lead", {"first_name", "last_name", "company_name", "email_id", "phone", "lead_source"}),
	],
)
def test_quick_entry_is_on_with_its_fields_marked(doctype, fields):
	meta = frappe.get_meta(doctype)
	assert meta.quick_entry
	marked = {df.fieldname for df in meta.fields if df.reqd or df.allow_in_quick_entry}
	assert fields <= marked
	assert not any(df.reqd and df.fieldtype == "Table" for df in meta.fields)  # would turn quick entry off


def test_project_opportunity_is_unique():
	opp = make_opportunity()
	frappe.get_doc({"doctype": "Project", "project_name": "One", "opportunity": opp.name}).insert()
	with pytest.raises(frappe.UniqueValidationError):
		frappe.get_doc({"doctype": "Project", "project_name": "Two", "opportunity": opp.name}).insert()


def test_project_defaults():
	project = frappe.get_doc({"doctype": "Project", "project_name": "Defaults"}).insert()
	assert project.status == "Open" and project.start_date and project.name.startswith("PROJ-")


def test_organization_shows_its_addresses():
	organization = make_organization()
	frappe.get_doc(
		{
			"doctype": "Address",
			"address_title": organization.name,
			"address_type": "Billing",
			"address_line1": "1 Main Street",
			"city": "Springfield",
			"country": frappe.db.get_value("Country", {}, "name") or "United States",
			"links": [{"link_doctype": "Organization", "link_name": organization.name}],
		}
	).insert()
	organization = frappe.get_doc("Organization", organization.name)
	organization.run_method("onload")
	addresses = organization.get_onload("addr_list")
	assert [a.address_line1 for a in addresses] == ["1 Main Street"]
