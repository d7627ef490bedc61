"""Frappe's own Data Import keeps working for Opportunity: insert from CSV and update existing records,
with links given by name (sales stage, assigned user). Data Import commits per row, so the test cleans
up what it made."""

import frappe
import pytest
from frappe.utils import add_days, today
from frappe.utils.file_manager import save_file

from tests.factories import make_user, unique


def _csv(rows: list[list]) -> str:
	import csv
	import io

	out = io.StringIO()
	csv.writer(out).writerows(rows)
	return out.getvalue()


def _run_data_import(content: str, import_type: str) -> "frappe.model.document.Document":
	data_import = frappe.get_doc(
		{"doctype": "Data Import", "reference_doctype": "Opportunity", "import_type": import_type}
	).insert()
	file = save_file(
		f"{unique('di')}.csv".replace(" ", "_"), content.encode(), "Data Import", data_import.name
	)
	data_import.import_file = file.file_url
	data_import.save()
	data_import.start_import()  # runs inline in tests (Frappe's own rule)
	data_import.reload()
	return data_import


@pytest.fixture
def cleanup():
	made = {"Opportunity": [], "Data Import": [], "User": []}
	yield made
	frappe.db.rollback()
	frappe.set_user("Administrator")
	for name in made["Opportunity"]:
		frappe.delete_doc("Opportunity", name, force=True, ignore_permissions=True)
	for name in made["Data Import"]:
		for file in frappe.get_all(
			"File", {"attached_to_doctype": "Data Import", "attached_to_name": name}, pluck="name"
		):
			frappe.delete_doc("File", file, force=True, ignore_permissions=True)
		frappe.db.delete("Data Import Log", {"data_import": name})
		frappe.delete_doc("Data Import", name, force=True, ignore_permissions=True)
	for name in made["User"]:
		for contact in frappe.get_all(
			"Contact", {"user": name}, pluck="name"
		):  # Frappe made it with the user
			frappe.delete_doc("Contact", contact, force=True, ignore_permissions=True)
		frappe.delete_doc("User", name, force=True, ignore_permissions=True)
	frappe.db.commit()


def test_data_import_inserts_and_updates_opportunities(cleanup):
	user = make_user("Sales User")
	frappe.db.commit()
	cleanup["User"].append(user)
	names = [unique("DI Deal") for _ in range(3)]
	close = add_days(today(), 20)
	content = _csv(
		[
			["Opportunity Name", "Sales Stage", "Expected Close Date", "Amount", "Assigned To"],
			[names[0], "Prospecting", close, "1000", user],
			[names[1], "Negotiation/Review", close, "2500.5", user],
			[names[2], "Closed Won", close, "300", ""],
		]
	)
	data_import = _run_data_import(content, "Insert New Records")
	cleanup["Data Import"].append(data_import.name)
	made = frappe.get_all(
		"Opportunity",
		filters={"opportunity_name": ("in", names)},
		fields=[
			"name",
			"opportunity_name",
			"sales_stage",
			"probability",
			"forecast_amount",
			"status",
			"assigned_to",
			"amount",
		],
	)
	cleanup["Opportunity"].extend(r.name for r in made)
	assert data_import.status == "Success", frappe.get_all(
		"Data Import Log", {"data_import": data_import.name}, ["messages", "exception"]
	)
	by_name = {r.opportunity_name: r for r in made}
	assert set(by_name) == set(names)
	assert all(r.name.startswith("OPP-") for r in made)
	first = by_name[names[0]]
	assert (first.sales_stage, first.probability, first.forecast_amount, first.assigned_to) == (
		"Prospecting",
		10,
		100,
		user,
	)
	assert (by_name[names[1]].probability, by_name[names[1]].forecast_amount) == (80, 2000.4)
	assert by_name[names[2]].status == "Won"

	# update existing records by ID
	update = _run_data_import(
		_csv([["ID", "Amount", "Sales Stage"], [first.name, "5000", "Qualification"]]),
		"Update Existing Records",
	)
	cleanup["Data Import"].append(update.name)
	assert update.status == "Success"
	updated = frappe.db.get_value(
		"Opportunity", first.name, ["amount", "sales_stage", "probability", "forecast_amount"], as_dict=True
	)
	assert (updated.amount, updated.sales_stage, updated.probability, updated.forecast_amount) == (
		5000,
		"Qualification",
		20,
		1000,
	)
