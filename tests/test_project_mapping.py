import frappe
import pytest
from frappe.custom.doctype.property_setter.property_setter import make_property_setter
from frappe.utils import add_days, getdate, today

from opportunity_suite.api.conversion import get_mapping_fields
from opportunity_suite.services.conversion import ConversionError, convert_to_project
from opportunity_suite.services.project_mapping import (
	DEFAULT_ROWS,
	LOCKED_ROW,
	ProjectMappingError,
	ensure_default_mapping,
)
from tests.conversion_fixtures import delete_custom_field, make_custom_field, set_mapping
from tests.factories import make_opportunity, make_user, unique
from tests.records_fixtures import make_contact, make_organization


def rows_of(mapping) -> list[tuple]:
	return [(row.opportunity_field, row.project_field, row.locked) for row in mapping.mappings]


def test_default_mapping_ships_six_rows_with_the_locked_name_row():
	mapping = frappe.get_single("Project Mapping")
	assert [(s, t) for s, t, _ in rows_of(mapping)] == list(DEFAULT_ROWS)
	assert [locked for _, _, locked in rows_of(mapping)] == [1, 0, 0, 0, 0, 0]
	assert mapping.mappings[4].opportunity_fieldtype == "Currency"
	assert mapping.mappings[5].project_fieldtype == "Date"


def test_ensure_default_mapping_is_idempotent_and_keeps_edits():
	ensure_default_mapping()
	ensure_default_mapping()
	assert [(s, t) for s, t, _ in rows_of(frappe.get_single("Project Mapping"))] == list(DEFAULT_ROWS)
	set_mapping([LOCKED_ROW, ("amount", "budget")])
	ensure_default_mapping()
	assert [(s, t) for s, t, _ in rows_of(frappe.get_single("Project Mapping"))] == [
		LOCKED_ROW,
		("amount", "budget"),
	]


def test_default_mapping_fills_the_project():
	organization = make_organization()
	contact = make_contact(links=[("Organization", organization.name)])
	close = add_days(today(), 45)
	opp = make_opportunity(
		organization=organization.name,
		contact=contact.name,
		amount=12500,
		description="<p>Fit-out of the new office</p>",
		expected_close_date=close,
		campaign="Spring",
	)
	project = frappe.get_doc("Project", convert_to_project(opp.name))
	assert project.project_name == opp.opportunity_name
	assert project.description == "<p>Fit-out of the new office</p>"
	assert project.organization == organization.name
	assert project.contact == contact.name
	assert project.budget == 12500
	assert getdate(project.target_end_date) == getdate(close)
	# unmapped: defaults, and the link back
	assert project.status == "Open"
	assert getdate(project.start_date) == getdate(today())
	assert project.opportunity == opp.name


def test_a_removed_row_leaves_its_project_field_empty():
	set_mapping([LOCKED_ROW, ("organization", "organization"), ("expected_close_date", "target_end_date")])
	opp = make_opportunity(organization=make_organization().name, amount=900, description="kept out")
	project = frappe.get_doc("Project", convert_to_project(opp.name))
	assert project.organization == opp.organization
	# same-named `description` is not copied by get_mapped_doc once its row is gone; nor is the amount
	assert not project.description
	assert not project.budget
	assert not project.contact


def test_compatible_pairs_convert_values():
	set_mapping(
		[
			LOCKED_ROW,
			("probability", "budget"),  # Percent into Currency
			("amount", "description"),  # a number into text
		]
	)
	opp = make_opportunity(amount=321.5, probability=40, probability_is_manual=1)
	project = frappe.get_doc("Project", convert_to_project(opp.name))
	assert project.budget == 40
	assert project.description == "321.5"


INVALID = [
	pytest.param(
		("no_such_field", "description"), "Opportunity has no field", id="unknown-opportunity-field"
	),
	pytest.param(("description", "no_such_field"), "Project has no field", id="unknown-project-field"),
	pytest.param(("contacts", "description"), "Opportunity has no field", id="table-field"),
	pytest.param(("lead", "opportunity"), "Project has no field", id="reserved-project-field"),
	pytest.param(("expected_close_date", "budget"), "cannot be copied", id="date-into-currency"),
	pytest.param(("campaign", "budget"), "cannot be copied", id="text-into-number"),
	pytest.param(("description", "project_name"), "already filled", id="project-field-twice-with-locked"),
	pytest.param(("organization", "contact"), "links to", id="link-to-another-doctype"),
	pytest.param(("status", "status"), "does not offer", id="select-options-missing"),  # Won, Lost
	pytest.param(("amount", "target_end_date"), "cannot be copied", id="number-into-date"),
]


@pytest.mark.parametrize("row, message", INVALID)
def test_invalid_rows_are_refused_naming_the_row(row, message):
	rows = [LOCKED_ROW, ("organization", "organization"), row]
	with pytest.raises(ProjectMappingError) as error:
		set_mapping(rows)
	assert "Row 3" in str(error.value) and message in str(error.value), str(error.value)


def test_a_project_field_mapped_twice_is_refused():
	with pytest.raises(ProjectMappingError, match=r"Row 3.*already filled by row 2"):
		set_mapping([LOCKED_ROW, ("amount", "budget"), ("probability", "budget")])


def test_the_locked_row_cannot_be_removed():
	with pytest.raises(ProjectMappingError, match="cannot be removed"):
		set_mapping([("amount", "budget")])
	# nor replaced by another field into the project name
	with pytest.raises(ProjectMappingError, match="cannot be removed"):
		set_mapping([("campaign", "project_name")])


def test_the_locked_row_cannot_be_changed():
	mapping = frappe.get_single("Project Mapping")
	mapping.mappings[0].opportunity_field = "campaign"
	with pytest.raises(ProjectMappingError, match="Row 1 is locked"):
		mapping.save()
	# a row can't be locked by hand either
	mapping = frappe.get_single("Project Mapping")
	mapping.mappings[1].locked = 1
	with pytest.raises(ProjectMappingError, match="Row 2 is locked"):
		mapping.save()


def test_an_unmapped_required_project_field_stops_the_conversion_naming_it():
	make_property_setter("Project", "contact", "reqd", 1, "Check")
	try:
		set_mapping([LOCKED_ROW, ("amount", "budget")])
		opp = make_opportunity(contact=make_contact().name)
		with pytest.raises(ConversionError, match=r"Contact.*no Project Mapping row fills it"):
			convert_to_project(opp.name)
		set_mapping([LOCKED_ROW, ("contact", "contact")])
		bare = make_opportunity()
		with pytest.raises(ConversionError, match=r"fill the opportunity's.*Primary Contact"):
			convert_to_project(bare.name)
		assert frappe.db.get_value("Project", {"opportunity": ("in", [opp.name, bare.name])}) is None
		assert convert_to_project(opp.name)
	finally:
		frappe.db.rollback()
		frappe.clear_cache(doctype="Project")


def test_mapping_permissions_for_roles():
	frappe.set_user(make_user("Sales Manager"))
	set_mapping([LOCKED_ROW, ("amount", "budget")])
	frappe.set_user(make_user("Sales User"))
	assert get_mapping_fields()["project"]
	with pytest.raises(frappe.PermissionError):
		set_mapping(list(DEFAULT_ROWS))
	frappe.set_user(make_user("Blogger"))
	with pytest.raises(frappe.PermissionError):
		get_mapping_fields()


# ---------------------------------------------------------------- custom fields on either side


@pytest.fixture(scope="module")
def custom_fields():
	"""Custom fields on both DocTypes (committed: adding a column is DDL); removed afterwards."""
	frappe.db.rollback()
	frappe.set_user("Administrator")
	names = [
		make_custom_field("Opportunity", "os_conv_region", "Data"),
		make_custom_field("Project", "os_conv_region", "Data"),
		make_custom_field("Project", "os_conv_site", "Small Text"),
		make_custom_field("Project", "os_conv_kickoff", "Date"),
		make_custom_field("Opportunity", "os_conv_owner_org", "Link", options="Organization"),
	]
	yield
	for name in names:
		delete_custom_field(name)


def test_custom_fields_are_offered_by_the_pickers(custom_fields):
	fields = get_mapping_fields()
	assert "os_conv_region" in {row["value"] for row in fields["opportunity"]}
	assert {"os_conv_region", "os_conv_site", "os_conv_kickoff"} <= {
		row["value"] for row in fields["project"]
	}
	assert "opportunity" not in {row["value"] for row in fields["project"]}


def test_a_custom_field_is_mapped(custom_fields):
	set_mapping([*DEFAULT_ROWS, ("os_conv_region", "os_conv_site")])
	opp = make_opportunity(os_conv_region="North-East")
	project = frappe.get_doc("Project", convert_to_project(opp.name))
	assert project.os_conv_site == "North-East"
	# the same-named custom field on the project is not filled: no row targets it (field_no_map)
	assert not project.os_conv_region


def test_a_custom_link_field_maps_into_a_link_of_the_same_doctype(custom_fields):
	organization = make_organization()
	rows = [row for row in DEFAULT_ROWS if row[1] != "organization"]
	set_mapping([*rows, ("os_conv_owner_org", "organization")])
	opp = make_opportunity(os_conv_owner_org=organization.name)
	assert frappe.db.get_value("Project", convert_to_project(opp.name), "organization") == organization.name


def test_custom_fields_are_type_checked(custom_fields):
	with pytest.raises(ProjectMappingError, match=r"Row 2.*cannot be copied"):
		set_mapping([LOCKED_ROW, ("os_conv_region", "os_conv_kickoff")])
	with pytest.raises(ProjectMappingError, match=r"Row 2.*links to"):
		set_mapping([LOCKED_ROW, ("os_conv_owner_org", "contact")])


def test_a_deleted_custom_field_makes_the_conversion_refuse_until_the_mapping_is_fixed():
	name = make_custom_field("Opportunity", "os_conv_temporary", "Data")
	try:
		set_mapping([LOCKED_ROW, ("os_conv_temporary", "description")])
		frappe.db.commit()
	finally:
		delete_custom_field(name)
	try:
		opp = make_opportunity(opportunity_name=unique("Stale"))
		with pytest.raises(ProjectMappingError, match=r"no longer valid.*Row 2"):
			convert_to_project(opp.name)
	finally:
		frappe.db.rollback()
		set_mapping(list(DEFAULT_ROWS))
		frappe.db.commit()
