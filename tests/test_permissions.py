import frappe
import pytest

from tests.factories import make_opportunity, make_user, set_forecast_settings, unique


@pytest.fixture
def sales_user():
	return make_user("Sales User")


@pytest.fixture
def sales_manager():
	return make_user("Sales Manager")


def test_the_app_ships_both_roles():
	assert frappe.db.exists("Role", "Sales User") and frappe.db.exists("Role", "Sales Manager")


def test_sales_user_works_opportunities_but_cannot_delete_them(sales_user):
	frappe.set_user(sales_user)
	opp = make_opportunity(amount=100)
	assert opp.assigned_to == sales_user  # defaults to the creator
	opp.amount = 200
	opp.save()
	assert frappe.has_permission("Opportunity", "export", user=sales_user)
	assert not frappe.has_permission("Opportunity", "import", user=sales_user)
	with pytest.raises(frappe.PermissionError):
		frappe.delete_doc("Opportunity", opp.name)


def test_sales_user_cannot_configure_stages_or_settings(sales_user):
	frappe.set_user(sales_user)
	assert frappe.get_doc("Opportunity Stage", "Prospecting").default_probability == 10  # can read
	with pytest.raises(frappe.PermissionError):
		frappe.get_doc({"doctype": "Opportunity Stage", "stage_name": unique("Stage")}).insert()
	stage = frappe.get_doc("Opportunity Stage", "Prospecting")
	stage.default_probability = 11
	with pytest.raises(frappe.PermissionError):
		stage.save()
	with pytest.raises(frappe.PermissionError):
		set_forecast_settings(forecast_formula="amount")


def test_sales_manager_configures_stages_and_settings_and_deletes(sales_manager):
	frappe.set_user(sales_manager)
	stage = frappe.get_doc(
		{"doctype": "Opportunity Stage", "stage_name": unique("Stage"), "default_probability": 55}
	).insert()
	set_forecast_settings(forecast_formula="amount * probability / 100")
	opp = make_opportunity(sales_stage=stage.name, amount=100)
	assert opp.probability == 55
	frappe.delete_doc("Opportunity", opp.name)
	assert not frappe.db.exists("Opportunity", opp.name)
	assert frappe.has_permission("Opportunity", "import", user=sales_manager)


def test_a_user_without_sales_roles_sees_nothing():
	outsider = make_user("Blogger")
	opp = make_opportunity(amount=100)
	frappe.set_user(outsider)
	assert not frappe.has_permission("Opportunity", "read", doc=opp.name)
	with pytest.raises(frappe.PermissionError):
		make_opportunity(amount=1)


@pytest.mark.parametrize("picklist", ["Opportunity Type", "Lead Source"])
def test_picklists_are_read_by_whoever_reads_opportunities_and_edited_by_managers(
	picklist, sales_user, sales_manager
):
	from frappe.desk.search import search_link

	from tests.factories import make_picklist_value

	readers = {
		p.role for doctype in ("Opportunity", "Lead") for p in frappe.get_meta(doctype).permissions if p.read
	}
	picklist_readers = {p.role for p in frappe.get_meta(picklist).permissions if p.read}
	assert readers <= picklist_readers

	frappe.set_user(sales_user)
	shipped = frappe.get_all(picklist, pluck="name", limit=1)[0]
	assert shipped in [r["value"] for r in search_link(picklist, shipped)]  # the form's Link field
	with pytest.raises(frappe.PermissionError):
		make_picklist_value(picklist)
	record = frappe.get_doc(picklist, shipped)
	record.disabled = 1
	with pytest.raises(frappe.PermissionError):
		record.save()

	frappe.set_user(sales_manager)
	value = make_picklist_value(picklist)
	value.disabled = 1
	value.save()
	new_name = unique("Renamed")
	frappe.rename_doc(picklist, value.name, new_name)
	frappe.delete_doc(picklist, new_name)
	assert not frappe.db.exists(picklist, new_name)
