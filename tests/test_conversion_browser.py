"""Convert to Project from the opportunity's form in the desk (committed data, cleaned up afterwards)."""

import re

import frappe
import pytest

from tests.conversion_fixtures import make_quote
from tests.factories import make_opportunity


def delete_converted(opportunity: str, quote: str | None = None):
	"""Remove a committed opportunity, its project(s), quote and comments."""
	frappe.db.rollback()
	frappe.db.set_value("Opportunity", opportunity, "project", None, update_modified=False)
	if quote:
		frappe.delete_doc("Quote", quote, force=True, ignore_permissions=True, delete_permanently=True)
	for project in frappe.get_all("Project", {"opportunity": opportunity}, pluck="name"):
		frappe.db.delete("Comment", {"reference_doctype": "Project", "reference_name": project})
		frappe.delete_doc("Project", project, force=True, ignore_permissions=True, delete_permanently=True)
	frappe.db.delete("Comment", {"reference_doctype": "Opportunity", "reference_name": opportunity})
	frappe.delete_doc(
		"Opportunity", opportunity, force=True, ignore_permissions=True, delete_permanently=True
	)
	frappe.db.commit()


@pytest.mark.browser
@pytest.mark.slow
def test_convert_from_the_form_and_land_on_the_project(desk):
	opp = make_opportunity(sales_stage="Closed Won")  # a won deal's primary action
	quote = make_quote(opp.name)
	frappe.db.commit()
	project = None
	try:
		desk.goto(f"/app/opportunity/{opp.name}")
		button = desk.locator(".page-actions button", has_text="Convert to Project")
		button.wait_for()
		button.click()
		desk.locator(".modal.show .btn-primary", has_text="Yes").click()
		link = desk.locator("a.converted-project")
		link.wait_for()
		project = link.inner_text().strip()
		assert project.startswith("PROJ-")
		assert desk.locator(".page-actions button", has_text="Convert to Project").count() == 0
		link.click()
		desk.wait_for_url(re.compile(rf"/app/project/{project}$"))
		# where it came from: the opportunity link field, and the connection back
		opportunity_field = desk.locator("#page-Project .frappe-control[data-fieldname='opportunity'] input")
		opportunity_field.wait_for()
		assert opportunity_field.input_value() == opp.opportunity_name
		connection = desk.locator("#page-Project .document-link[data-doctype='Opportunity'] .count")
		connection.wait_for()
		assert connection.inner_text().strip() == "1"
		frappe.db.rollback()
		assert frappe.db.get_value("Opportunity", opp.name, "project") == project
		assert frappe.db.get_value("Quote", quote.name, "project") == project
	finally:
		delete_converted(opp.name, quote.name)


@pytest.mark.browser
@pytest.mark.slow
def test_the_related_lists_convert_and_then_point_to_the_project(desk):
	"""Every way of making a project on the opportunity's form is the conversion: no bare linked Project
	that would make the real conversion answer "already converted"."""
	opp = make_opportunity()
	frappe.db.commit()
	try:
		desk.goto(f"/app/opportunity/{opp.name}")
		convert = desk.locator("[data-related='projects'] button", has_text="Convert")
		convert.click()
		desk.locator(".modal.show .btn-primary", has_text="Yes").click()
		link = desk.locator("a.converted-project")
		link.wait_for()
		project = link.inner_text().strip()
		assert desk.url.endswith(f"/app/opportunity/{opp.name}")  # no new Project form opened
		desk.locator("[data-related='projects'] .related-count", has_text="1").wait_for()
		# asked again, it answers where the opportunity went
		desk.locator("[data-related='projects'] button", has_text="Convert").click()
		answer = desk.locator(".modal.show .msgprint", has_text="already converted")
		answer.wait_for()
		assert project in answer.inner_text()
		frappe.db.rollback()
		assert frappe.get_all("Project", {"opportunity": opp.name}, pluck="name") == [project]
		assert frappe.db.get_value("Opportunity", opp.name, "project") == project
	finally:
		delete_converted(opp.name)


@pytest.mark.browser
@pytest.mark.slow
def test_project_mapping_form_offers_each_sides_fields(desk):
	desk.goto("/app/project-mapping")
	rows = desk.locator(
		"#page-Project\\ Mapping .frappe-control[data-fieldname='mappings'] .grid-body .grid-row"
	)
	rows.first.wait_for()
	assert rows.count() == 6
	# open the second row's opportunity field: its picker lists the Opportunity's fields with their types
	rows.nth(1).locator(".static-area", has_text="description").first.click()
	picker = rows.nth(1).locator(".frappe-control[data-fieldname='opportunity_field'] select")
	picker.wait_for()
	labels = picker.locator("option").all_inner_texts()
	assert "Amount" in labels and "Expected Close Date" in labels  # by label, never a fieldname
	assert not any(label.startswith("Contacts") for label in labels)  # a table is not mappable
