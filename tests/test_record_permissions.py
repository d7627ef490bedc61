"""The README's table of DocType x role x read/write/create/delete/export/import, row by row."""

import frappe
import pytest

from tests.factories import unique
from tests.records_fixtures import delete_committed_users, make_committed_users

PTYPES = ("read", "write", "create", "delete", "export", "import")
ALL = set(PTYPES)
EDIT = {"read", "write", "create", "export"}
READ = {"read", "export"}

# DocType -> (Sales User, Sales Manager): what each may do (the README's table)
TABLE = {
	"Opportunity": (EDIT, ALL),
	"Organization": (EDIT, ALL),
	"Lead": (EDIT, ALL),
	"Product": (READ, ALL),
	"Service": (READ, ALL),
	"Quote": (EDIT, ALL),
	"Sales Order": (EDIT, ALL),
	"Project": (EDIT, ALL),
}


def new_record(doctype: str) -> dict:
	values = {
		"Opportunity": lambda: {
			"opportunity_name": unique("Deal"),
			"sales_stage": "Prospecting",
			"expected_close_date": "2031-01-01",
		},
		"Organization": lambda: {"organization_name": unique("Org")},
		"Lead": lambda: {"first_name": unique("Lead")},
		"Product": lambda: {"product_name": unique("Product")},
		"Service": lambda: {"service_name": unique("Service")},
		"Quote": lambda: {"subject": unique("Quote")},
		"Sales Order": lambda: {"subject": unique("Order")},
		"Project": lambda: {"project_name": unique("Project")},
	}[doctype]()
	return {"doctype": doctype, **values}


@pytest.fixture(scope="module")
def users():
	made = make_committed_users(sales_user="Sales User", sales_manager="Sales Manager", outsider="Blogger")
	yield frappe._dict(made)
	delete_committed_users(made)


@pytest.mark.parametrize("doctype", sorted(TABLE))
def test_role_rights_match_the_table(doctype, users):
	user_rights, manager_rights = TABLE[doctype]
	sales_user, sales_manager, outsider = users.sales_user, users.sales_manager, users.outsider
	for user, allowed in ((sales_user, user_rights), (sales_manager, manager_rights), (outsider, set())):
		actual = {ptype for ptype in PTYPES if frappe.has_permission(doctype, ptype, user=user)}
		assert actual == allowed, (doctype, user, actual)


@pytest.mark.parametrize("doctype", sorted(TABLE))
def test_create_and_delete_allowed_and_denied_for_real(doctype, users):
	user_rights, _ = TABLE[doctype]
	sales_user, sales_manager = users.sales_user, users.sales_manager

	frappe.set_user(sales_user)
	if "create" in user_rights:
		record = frappe.get_doc(new_record(doctype)).insert()
		assert "delete" not in user_rights
		with pytest.raises(frappe.PermissionError):
			frappe.delete_doc(doctype, record.name)
	else:
		with pytest.raises(frappe.PermissionError):
			frappe.get_doc(new_record(doctype)).insert()
		frappe.set_user("Administrator")
		record = frappe.get_doc(new_record(doctype)).insert()
		frappe.set_user(sales_user)
		with pytest.raises(frappe.PermissionError):
			record.save()  # read-only for a sales user
	assert frappe.get_list(doctype, filters={"name": record.name}, pluck="name") == [record.name]

	frappe.set_user(sales_manager)
	frappe.get_doc(new_record(doctype)).insert()
	frappe.delete_doc(doctype, record.name)
	assert not frappe.db.exists(doctype, record.name)

	frappe.set_user(users.outsider)
	assert not frappe.has_permission(doctype, "read")
	with pytest.raises(frappe.PermissionError):
		frappe.get_list(doctype)
