"""Convert to Project over REST and from the Opportunity form, and the Project Mapping form's pickers."""

import frappe

from opportunity_suite.services import conversion, project_mapping


@frappe.whitelist(methods=["POST"])
def convert_to_project(opportunity: str) -> str:
	"""Convert `opportunity` into a project (once); returns the project's name.

	Needs write access to the opportunity, create rights on Project, and write rights on Quote / Sales Order
	when the opportunity has some (all of them are linked to the project, whoever owns them)."""
	conversion.check_rights(opportunity)
	return conversion.convert_to_project(opportunity)


@frappe.whitelist(methods=["GET"])
def can_convert(opportunity: str) -> dict:
	"""The opportunity form's Convert to Project button: {project, converted_on, can_convert, reason}."""
	frappe.has_permission("Opportunity", "read", doc=opportunity, throw=True)
	return conversion.conversion_state(opportunity)


@frappe.whitelist(methods=["GET"])
def get_mapping_fields() -> dict[str, list[dict]]:
	"""The fields each side of a Project Mapping row may name (custom fields included)."""
	frappe.has_permission("Project Mapping", "read", throw=True)
	return project_mapping.field_choices()
