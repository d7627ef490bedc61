"""The desk in headless Chromium: convert a lead from its form and land on the new opportunity."""

import re
from urllib.parse import quote

import frappe
import pytest

from tests.factories import make_opportunity, unique
from tests.records_fixtures import delete_committed, make_lead, make_organization, make_product


@pytest.fixture
def own_assets():
	"""Frappe keeps the asset manifest under a Redis key shared by every bench on the Redis server
	(`assets_json`, shared=True): with several benches on one Redis, another bench's build hashes would
	be served here (404 on the desk's bundles). Put this bench's manifest there for the test, and drop
	the key afterwards so every bench reloads its own."""
	manifest = frappe.parse_json(frappe.read_file("assets/assets.json"))
	manifest.update(frappe.parse_json(frappe.read_file("assets/assets-rtl.json") or "{}"))
	frappe.cache.set_value("assets_json", manifest, shared=True)
	yield
	frappe.cache.delete_value("assets_json", shared=True)


@pytest.mark.browser
@pytest.mark.slow
def test_convert_lead_from_its_form_lands_on_the_opportunity(own_assets, desk):
	company = unique("Browser Co")
	lead = make_lead(company_name=company)
	frappe.db.commit()
	try:
		desk.goto(f"/app/lead/{lead.name}")
		desk.get_by_role("button", name="Convert Lead").click()
		dialog = desk.locator(".modal.show")
		dialog.locator("input[data-fieldname='opportunity_name']").fill(f"{company} deal")
		dialog.get_by_role("button", name="Convert").click()
		desk.wait_for_url(re.compile(r".*/app/opportunity/OPP-\d+"))
		opportunity = desk.url.rstrip("/").split("/")[-1]
		desk.locator(".opportunity-related").wait_for()
		assert desk.locator("[data-related='contacts'] .related-count").inner_text() == "1"
		assert desk.locator("#page-Opportunity .title-text").first.inner_text().strip() == f"{company} deal"

		frappe.db.rollback()
		assert frappe.db.get_value("Opportunity", opportunity, ["lead", "organization"]) == (
			lead.name,
			company,
		)
		assert frappe.db.get_value("Lead", lead.name, "status") == "Converted"
	finally:
		frappe.db.rollback()
		opportunities = frappe.get_all("Opportunity", filters={"lead": lead.name}, pluck="name")
		contacts = frappe.get_all(
			"Dynamic Link",
			filters={"link_doctype": "Lead", "link_name": lead.name, "parenttype": "Contact"},
			pluck="parent",
		)
		delete_committed("Lead", [lead.name])
		delete_committed("Opportunity", opportunities)
		delete_committed("Contact", contacts)
		delete_committed(
			"Organization",
			frappe.get_all("Organization", filters={"organization_name": company}, pluck="name"),
		)
		frappe.db.commit()


@pytest.mark.browser
@pytest.mark.slow
def test_duplicate_organization_dialog_links_the_existing_one_and_saves_anyway(own_assets, desk):
	existing = make_organization(organization_name=unique("Browser Dup"))
	frappe.db.commit()
	try:
		desk.goto("/app/organization/new")
		field = desk.locator("#page-Organization input[data-fieldname='organization_name']")
		field.fill(f" {existing.organization_name.upper()} ")
		desk.keyboard.press("Control+s")
		dialog = desk.locator(".modal.show", has_text="Possible Duplicate")
		dialog.wait_for()
		link = dialog.locator(".duplicate-records a")
		assert link.inner_text() == existing.organization_name
		assert link.get_attribute("href") == f"/app/organization/{quote(existing.name)}"
		dialog.get_by_role("button", name="Save Anyway").click()
		desk.wait_for_url(re.compile(r".*/app/organization/(?!new).+"))
		frappe.db.rollback()
		names = frappe.get_all(
			"Organization",
			filters={"organization_name": existing.organization_name},
			pluck="name",
			order_by="creation",
		)
		assert len(names) == 2 and names[0] == existing.name
	finally:
		frappe.db.rollback()
		delete_committed(
			"Organization",
			frappe.get_all(
				"Organization", filters={"organization_name": existing.organization_name}, pluck="name"
			),
		)
		frappe.db.commit()


@pytest.mark.browser
@pytest.mark.slow
def test_product_line_takes_the_unit_price_and_sets_the_amount_in_the_form(own_assets, desk):
	product = make_product(unit_price=125)
	opp = make_opportunity(amount_from_items=1)
	frappe.db.commit()
	try:
		desk.goto(f"/app/opportunity/{opp.name}")
		desk.locator(".opportunity-related").wait_for()
		desk.locator("[data-related='products'] button", has_text="Add").click()
		row = desk.evaluate("() => cur_frm.doc.items.map((r) => [r.doctype, r.name, r.item_type])[0]")
		assert row[0] == "Line Item" and row[2] == "Product"
		desk.evaluate(
			"([cdt, cdn, item]) => frappe.model.set_value(cdt, cdn, {item: item, qty: 3})",
			[row[0], row[1], product.name],
		)
		desk.wait_for_function("() => cur_frm.doc.items[0].rate === 125 && cur_frm.doc.amount === 375")
		assert desk.evaluate("() => cur_frm.doc.items[0].item_name") == product.product_name
		desk.keyboard.press("Control+s")
		desk.wait_for_function("() => !cur_frm.is_dirty() && cur_frm.doc.items[0].amount === 375")
		frappe.db.rollback()
		assert frappe.db.get_value("Opportunity", opp.name, "amount") == 375
	finally:
		frappe.db.rollback()
		delete_committed("Opportunity", [opp.name])
		delete_committed("Product", [product.name])
		frappe.db.commit()
