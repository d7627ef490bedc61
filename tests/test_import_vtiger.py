# ruff: noqa: F811 (the cleanup fixture is imported, then used as an argument)
"""Vtiger 7 and 8 exports of Potentials import as they are (files in tests/data/vtiger, made from
Vtiger's own export code: see the README there): headers auto-mapped in English and Chinese, references
`Accounts::::…` read as names, owners by login name, groups refused unless mapped, Vtiger's bookkeeping
columns offered as ignored, closed-lost deals without a reason created."""

import csv
import io
import pathlib

import frappe
import pytest
from frappe.utils import getdate

from tests.factories import unique
from tests.import_fixtures import (
	assert_accounted,
	cleanup,  # noqa: F401 (fixture)
	created,
	csv_bytes,
	new_import,
	prepare,
	run,
)

DATA = pathlib.Path(__file__).parent / "data" / "vtiger"
USERS = ("vtfix.anna", "vtfix.ben")
CONTACTS = (("Vtfix Jane", "Roe"), ("Vtfix Élodie", "Martin"), ("Vtfix 王", "小明"))
IGNORED = (
	"Opportunity Number",
	"Weighted Revenue",
	"Created Time",
	"Modified Time",
	"Last Modified By",
	"Is Converted From Lead",
	"Source",
)


@pytest.fixture
def vtiger_people(cleanup):
	"""The Vtiger users (by login name) and contacts the files name, as a migration would set them up."""
	users = {}
	for username in USERS:
		name = frappe.db.get_value("User", {"username": username})
		if not name:
			user = frappe.get_doc(
				{
					"doctype": "User",
					"email": f"{username}@opportunity-suite.test",
					"first_name": username,
					"username": username,
					"send_welcome_email": 0,
					"roles": [{"role": "Sales User"}],
				}
			).insert(ignore_permissions=True)
			name = user.name
			cleanup["User"].append(name)
		users[username] = name
	for first, last in CONTACTS:
		if not frappe.db.exists("Contact", {"full_name": f"{first} {last}"}):
			contact = frappe.get_doc({"doctype": "Contact", "first_name": first, "last_name": last}).insert()
			cleanup["Contact"].append(contact.name)
	frappe.db.commit()
	return users


def _records(doc, *fields):
	return frappe.get_all(
		"Opportunity",
		filters={"name": ("in", created(doc) or [""])},
		fields=["name", "opportunity_name", *fields],
	)


def _file_rows(path: pathlib.Path) -> list[dict]:
	text = path.read_bytes().decode("utf-8")
	reader = csv.reader(io.StringIO(text, newline=""), skipinitialspace=True)
	header = next(reader)
	return [dict(zip(header, row, strict=True)) for row in reader]


@pytest.mark.parametrize("file", ["vtiger7_potentials_en_us.csv", "vtiger8_potentials_en_us.csv"])
def test_a_vtiger_export_imports_every_row_with_no_hand_mapping(cleanup, vtiger_people, file):
	content = (DATA / file).read_bytes()
	doc = new_import(cleanup, content, create_missing_organizations=1)
	prepare(doc)
	mapped = {c.header: (c.fieldname, c.ignore) for c in doc.columns}
	assert mapped["Opportunity Name"] == ("opportunity_name", 0)
	assert mapped["Organization Name"] == ("organization", 0)
	assert mapped["Contact Name"] == ("contact", 0)
	assert mapped["Campaign Source"] == ("campaign", 0)
	assert mapped["Assigned To"] == ("assigned_to", 0)
	assert mapped["Probability"] == ("probability", 0)
	assert mapped["Type"] == ("opportunity_type", 0)
	assert all(mapped[header] == (None, 1) for header in IGNORED), mapped
	assert all(fieldname or ignore for fieldname, ignore in mapped.values())  # nothing left to decide

	run(doc)
	assert (doc.status, doc.rows_read, doc.created_count, doc.failed_count) == ("Completed", 200, 200, 0), (
		doc.error
	)
	assert_accounted(doc)

	made = {
		r.opportunity_name: r
		for r in _records(
			doc,
			"organization",
			"contact",
			"campaign",
			"assigned_to",
			"amount",
			"probability",
			"sales_stage",
			"status",
			"lost_reason",
			"expected_close_date",
			"description",
			"lead_source",
			"opportunity_type",
			"forecast_amount",
		)
	}
	for row in _file_rows(DATA / file):
		record = made[row["Opportunity Name"]]
		organization = row["Organization Name"].split("::::", 1)[1]
		assert frappe.db.get_value("Organization", record.organization, "organization_name") == organization
		if row["Contact Name"]:
			full_name = row["Contact Name"].split("::::", 1)[1]
			assert frappe.db.get_value("Contact", record.contact, "full_name") == full_name
		else:
			assert not record.contact
		assert (record.campaign or "") == row["Campaign Source"].partition("::::")[2]
		assert record.assigned_to == vtiger_people[row["Assigned To"]]
		assert record.amount == float(row["Amount"])
		# 0 stays 0 on an open stage; a closed stage is certain (Won 100 %, Lost 0 %), as a save makes it
		closed = {"Closed Won": 100.0, "Closed Lost": 0.0}
		assert record.probability == closed.get(row["Sales Stage"], float(row["Probability"]))
		assert record.sales_stage == row["Sales Stage"]
		assert getdate(record.expected_close_date) == getdate(row["Expected Close Date"])
		assert (record.description or "") == row["Description"]
		assert (record.lead_source or "", record.opportunity_type or "") == (row["Lead Source"], row["Type"])
		# Weighted Revenue is recomputed from amount and probability, as a save does
		assert record.forecast_amount == pytest.approx(record.amount * record.probability / 100, abs=0.01)
		if row["Sales Stage"] == "Closed Lost":  # history comes along without a lost reason
			assert (record.status, record.lost_reason) == ("Lost", None)
	zero = [r for r in made.values() if r.probability == 0 and r.status == "Open"]
	assert zero, "the files hold open deals at 0 %"


def test_chinese_headers_auto_map(cleanup, vtiger_people):
	doc = new_import(
		cleanup, (DATA / "vtiger7_potentials_zh_cn.csv").read_bytes(), create_missing_organizations=1
	)
	prepare(doc)
	mapped = {c.header: (c.fieldname, c.ignore) for c in doc.columns}
	assert mapped["销售机会名称"] == ("opportunity_name", 0)
	assert mapped["客户名称"] == ("organization", 0)
	assert mapped["指派给"] == ("assigned_to", 0)
	assert mapped["成交概率"] == ("probability", 0)
	assert mapped["预测总额(金额*成交概率)"] == (None, 1)
	assert all(fieldname or ignore for fieldname, ignore in mapped.values()), mapped
	run(doc)
	assert (doc.created_count, doc.failed_count) == (20, 0), doc.error


def test_a_group_owner_fails_its_row_naming_the_group_unless_mapped(cleanup, vtiger_people):
	content = (DATA / "vtiger7_potentials_group_owner.csv").read_bytes()
	doc = new_import(cleanup, content, create_missing_organizations=1)
	prepare(doc)
	run(doc)
	assert (doc.created_count, doc.failed_count) == (2, 1)
	reasons = _failed_reasons(doc)
	assert len(reasons) == 1 and "Team Selling" in reasons[0] and "User Map" in reasons[0]
	assert not any(r.opportunity_name.startswith("Vtfix deal 002") for r in _records(doc))

	manager = vtiger_people["vtfix.anna"]
	mapped = new_import(
		cleanup, content, create_missing_organizations=1, user_map=f"team selling = {manager}"
	)
	prepare(mapped)
	run(mapped)
	assert (mapped.created_count, mapped.failed_count) == (3, 0)
	owned = {r.opportunity_name[:14]: r.assigned_to for r in _records(mapped, "assigned_to")}
	assert owned["Vtfix deal 002"] == manager


def test_a_user_map_naming_no_user_is_refused(cleanup, vtiger_people):
	from opportunity_suite.services.importing.people import UserMapError

	content = (DATA / "vtiger7_potentials_group_owner.csv").read_bytes()
	doc = new_import(cleanup, content, create_missing_organizations=1, user_map="Team Selling = nobody-here")
	prepare(doc)
	with pytest.raises(UserMapError, match="nobody-here"):
		run(doc)


def _failed_reasons(doc) -> list[str]:
	file = frappe.get_doc("File", {"file_url": doc.failed_rows_file})
	content = file.get_content()
	rows = list(csv.reader(io.StringIO(content.decode() if isinstance(content, bytes) else content)))
	return [row[-1] for row in rows[1:]]


def test_a_reference_to_another_kind_of_record_fails_the_row(cleanup, vtiger_people):
	tag = unique("Vtfix ref")
	header = ["Opportunity Name", "Organization Name", "Sales Stage", "Expected Close Date", "Assigned To"]
	rows = [
		header,
		[f"{tag} a", "Contacts::::Vtfix Jane Roe", "Prospecting", "2025-01-01", "vtfix.anna"],
		[f"{tag} b", f"Accounts::::{tag} Org", "Prospecting", "2025-01-01", "VTFIX.BEN"],
	]
	doc = new_import(cleanup, csv_bytes(rows), create_missing_organizations=1)
	prepare(doc)
	run(doc)
	assert (doc.created_count, doc.failed_count) == (1, 1)
	(reason,) = _failed_reasons(doc)
	assert "Contacts::::Vtfix Jane Roe is a contact in Vtiger, not an organization" in reason
	(record,) = _records(doc, "organization", "assigned_to")
	assert frappe.db.get_value("Organization", record.organization, "organization_name") == f"{tag} Org"
	assert record.assigned_to == vtiger_people["vtfix.ben"]  # a login name in any case


def test_closed_lost_rows_take_the_run_s_default_lost_reason(cleanup):
	tag = unique("Vtfix lost")
	rows = [
		["Opportunity Name", "Sales Stage", "Expected Close Date", "Lost Reason"],
		[f"{tag} given", "Closed Lost", "2025-01-01", "Price"],
		[f"{tag} default", "Closed Lost", "2025-01-01", ""],
		[f"{tag} open", "Prospecting", "2025-01-01", ""],
	]
	doc = new_import(cleanup, csv_bytes(rows), defaults='{"lost_reason": "Migrated from Vtiger"}')
	prepare(doc)
	run(doc)
	assert doc.created_count == 3, doc.error
	reasons = {r.opportunity_name: r.lost_reason for r in _records(doc, "lost_reason")}
	assert reasons == {f"{tag} given": "Price", f"{tag} default": "Migrated from Vtiger", f"{tag} open": None}


def test_the_desk_still_requires_a_lost_reason(cleanup):
	from tests.factories import make_opportunity

	opportunity = make_opportunity(opportunity_name=unique("Vtfix desk"), sales_stage="Prospecting")
	opportunity.sales_stage = "Closed Lost"
	with pytest.raises(frappe.MandatoryError, match="Lost Reason"):
		opportunity.save()
	frappe.db.rollback()


def test_vtiger7_header_is_read_without_its_spaces_and_quotes(cleanup):
	from opportunity_suite.services.importing.readers import iter_csv

	path = DATA / "vtiger7_potentials_en_us.csv"
	rows = iter_csv(str(path), "utf-8-sig", ",")
	_n, header = next(rows)
	assert header[:3] == ["Opportunity Name", "Opportunity Number", "Amount"]
	_n, first = next(rows)
	assert first[0].startswith("Vtfix deal 001") and len(first) == len(header)
