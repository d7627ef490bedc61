# ruff: noqa: F811 (the cleanup fixture is imported, then used as an argument)
"""Opportunity Import and organizations: "Create Missing Organizations" (once per name, any case, across
batches, only with create rights), a vCard's ORG as the contact's and the opportunity's organization, and
undo removing exactly the organizations a run created."""

import csv
import io
import json
from contextlib import contextmanager

import frappe
import pytest
from frappe.permissions import update_permission_property

from tests.factories import make_user, unique
from tests.import_fixtures import (
	assert_accounted,
	cleanup,  # noqa: F401 (fixture)
	created,
	csv_bytes,
	new_import,
	prepare,
	run,
)
from tests.records_fixtures import make_organization

HEADER = ["Opportunity Name", "Organization", "Sales Stage", "Expected Close Date"]
VCF_DEFAULTS = '{"sales_stage": "Qualification", "expected_close_date": "2026-12-31"}'


def committed_organization(cleanup, name: str) -> str:
	org = make_organization(organization_name=name)
	cleanup["Organization"].append(org.name)
	frappe.db.commit()
	return org.name


def created_records(doc, doctype: str) -> list[str]:
	names = []
	for batch in frappe.get_all(
		"Opportunity Import Batch", {"import_run": doc.name}, ["created_records"], order_by="first_row"
	):
		names.extend(json.loads(batch.created_records or "{}").get(doctype, []))
	return names


def organizations_of(doc) -> dict[str, str]:
	"""opportunity name → its organization, for what the run created."""
	return dict(
		frappe.get_all(
			"Opportunity",
			filters={"name": ("in", created(doc) or [""])},
			fields=["opportunity_name", "organization"],
			as_list=True,
		)
	)


def failed_reasons(doc) -> dict[str, str]:
	"""first cell → reason, from the run's failed-rows file."""
	content = frappe.get_doc("File", {"file_url": doc.failed_rows_file}).get_content()
	rows = list(csv.reader(io.StringIO(content.decode() if isinstance(content, bytes) else content)))
	return {row[0]: row[-1] for row in rows[1:]}


def tagged_organizations(tag: str) -> list[str]:
	return frappe.get_all("Organization", filters={"organization_name": ("like", f"{tag}%")}, pluck="name")


@contextmanager
def organization_create_revoked():
	"""Sales Manager and Sales User lose create on Organization (Custom DocPerms, committed because the
	import commits), and get it back afterwards."""
	roles = ("Sales Manager", "Sales User")
	had_custom = frappe.db.exists("Custom DocPerm", {"parent": "Organization"})
	previous = {
		role: frappe.db.get_value(
			"Custom DocPerm",
			{"parent": "Organization", "role": role, "permlevel": 0, "if_owner": 0},
			"create",
		)
		for role in roles
	}
	try:
		for role in roles:
			update_permission_property("Organization", role, 0, "create", 0)
		frappe.db.commit()
		frappe.clear_cache(doctype="Organization")
		yield
	finally:
		frappe.db.rollback()
		frappe.set_user("Administrator")
		if had_custom:
			for role, value in previous.items():
				if value is not None:
					update_permission_property("Organization", role, 0, "create", value)
		else:
			frappe.db.delete("Custom DocPerm", {"parent": "Organization"})
		frappe.db.commit()
		frappe.clear_cache(doctype="Organization")


# ---------------------------------------------------------------- Create Missing Organizations


def test_missing_organizations_are_created_once_across_batches_and_undone(cleanup):
	tag = unique("NewOrg")
	existing = committed_organization(cleanup, f"{tag} Existing")
	rows = [
		HEADER,
		[f"{tag} 1", f"{tag} Alpha", "Prospecting", "2026-12-31"],
		[f"{tag} 2", f"{tag} ALPHA  ", "Prospecting", "2026-12-31"],
		[f"{tag} 3", f"{tag} existing", "Prospecting", "2026-12-31"],  # an organization that exists
		[f"{tag} 4", f"{tag} alpha", "Prospecting", "2026-12-31"],  # next batch: finds batch 1's
		[f"{tag} 5", f"{tag} Beta", "Prospecting", "2026-12-31"],
		[f"{tag} 6", "", "Prospecting", "2026-12-31"],
		[f"{tag} 7", f"{tag} beta ", "No Such Stage", "2026-12-31"],  # fails on its stage
	]
	doc = new_import(cleanup, csv_bytes(rows), create_missing_organizations=1)
	prepare(doc)
	run(doc, batch_size=3)
	assert doc.status == "Completed with Errors", doc.error
	assert (doc.rows_read, doc.created_count, doc.failed_count) == (7, 6, 1)
	assert_accounted(doc)

	made = created_records(doc, "Organization")
	assert len(made) == 2
	alpha, beta = made
	assert frappe.db.get_value("Organization", alpha, "organization_name") == f"{tag} Alpha"  # first spelling
	assert frappe.db.get_value("Organization", beta, "organization_name") == f"{tag} Beta"
	assert sorted(tagged_organizations(tag)) == sorted([existing, alpha, beta])
	assert organizations_of(doc) == {
		f"{tag} 1": alpha,
		f"{tag} 2": alpha,
		f"{tag} 3": existing,
		f"{tag} 4": alpha,
		f"{tag} 5": beta,
		f"{tag} 6": None,
	}

	# undo: the run's opportunities and the organizations it created go; the one that existed stays
	from opportunity_suite.api.importing import undo_import

	report = undo_import(doc.name)
	frappe.db.commit()
	assert report["deleted"] == 6 + 2 and not report["changed_since"] and not report["kept"]
	assert tagged_organizations(tag) == [existing]


def test_undo_keeps_an_organization_changed_since_the_import(cleanup):
	tag = unique("OrgEdit")
	rows = [
		HEADER,
		[f"{tag} 1", f"{tag} Kept", "Prospecting", "2026-12-31"],
		[f"{tag} 2", f"{tag} Gone", "Prospecting", "2026-12-31"],
	]
	doc = new_import(cleanup, csv_bytes(rows), create_missing_organizations=1)
	prepare(doc)
	run(doc)
	assert doc.created_count == 2
	kept, gone = created_records(doc, "Organization")
	assert frappe.db.get_value("Organization", gone, "organization_name") == f"{tag} Gone"
	# created organizations start unchanged: their `modified` is their `creation`
	for name in (kept, gone):
		stamps = frappe.db.get_value("Organization", name, ["creation", "modified"], as_dict=True)
		assert stamps.creation == stamps.modified
	edited = frappe.get_doc("Organization", kept)
	edited.industry = "Retail"
	edited.save()
	frappe.db.commit()

	from opportunity_suite.api.importing import undo_import

	report = undo_import(doc.name)
	frappe.db.commit()
	assert report["changed_since"] == [kept]
	assert frappe.db.exists("Organization", kept) and not frappe.db.exists("Organization", gone)
	assert not any(frappe.db.exists("Opportunity", name) for name in created(doc))


def test_without_the_option_rows_naming_a_missing_organization_fail_and_the_batch_is_kept(cleanup):
	tag = unique("NoOrg")
	existing = committed_organization(cleanup, f"{tag} Existing")
	rows = [
		HEADER,
		[f"{tag} 1", f"{tag} Missing", "Prospecting", "2026-12-31"],
		[f"{tag} 2", f"{tag} EXISTING", "Prospecting", "2026-12-31"],
		[f"{tag} 3", "", "Prospecting", "2026-12-31"],
	]
	doc = new_import(cleanup, csv_bytes(rows))
	prepare(doc)
	run(doc)
	assert (doc.created_count, doc.failed_count) == (2, 1)
	assert_accounted(doc)
	assert tagged_organizations(tag) == [existing]
	assert organizations_of(doc) == {f"{tag} 2": existing, f"{tag} 3": None}
	reason = failed_reasons(doc)[f"{tag} 1"]
	assert f"Organization {tag} Missing does not exist" in reason
	assert "Create Missing Organizations" in reason


def test_a_user_without_create_rights_on_organization_gets_none_created(cleanup):
	tag = unique("OrgPerm")
	existing = committed_organization(cleanup, f"{tag} Existing")
	user = make_user("Sales Manager")
	cleanup["User"].append(user)
	frappe.db.commit()
	with organization_create_revoked():
		frappe.set_user(user)
		assert not frappe.has_permission("Organization", "create")
		rows = [
			HEADER,
			[f"{tag} 1", f"{tag} Missing", "Prospecting", "2026-12-31"],
			[f"{tag} 2", f"{tag} existing", "Prospecting", "2026-12-31"],
		]
		doc = new_import(cleanup, csv_bytes(rows), create_missing_organizations=1)
		prepare(doc)
		run(doc)
		frappe.set_user("Administrator")
	assert (doc.status, doc.created_count, doc.failed_count) == ("Completed with Errors", 1, 1), doc.error
	assert tagged_organizations(tag) == [existing]
	assert organizations_of(doc) == {f"{tag} 2": existing}
	assert failed_reasons(doc)[f"{tag} 1"] == (
		f"Organization {tag} Missing does not exist, and you may not create organizations."
	)


@pytest.mark.parametrize("one_save_each", [False, True], ids=["batch insert", "one save each"])
def test_an_organization_named_with_angle_brackets_is_created_as_a_save_creates_it(cleanup, one_save_each):
	"""The desk names `<svg onload=alert(1)> Ltd` by `safe_names.organization_id` and sanitizes the name
	it keeps: an import's Create Missing Organizations stores the same ID and name (both its paths: the
	batch's multi-row INSERT, and one save each when imports fire alert rules), and a later batch and a
	second run find it instead of making another."""
	tag = unique("SvgOrg")
	hostile = f"<svg onload=alert(1)> {tag} Ltd"
	user = make_user("Sales Manager")
	cleanup["User"].append(user)
	frappe.db.commit()
	frappe.set_user(user)
	try:
		saved = frappe.get_doc({"doctype": "Organization", "organization_name": hostile}).insert()
		as_saved = (saved.name, saved.organization_name)
		frappe.set_user("Administrator")
		frappe.delete_doc("Organization", saved.name, force=True)
		frappe.db.commit()
		frappe.db.set_single_value("Opportunity Settings", "alerts_on_import", int(one_save_each))
		frappe.db.commit()
		frappe.set_user(user)
		rows = [
			HEADER,
			[f"{tag} 1", hostile, "Prospecting", "2026-12-31"],
			[f"{tag} 2", hostile.upper(), "Prospecting", "2026-12-31"],  # the next batch: finds it
		]
		doc = new_import(cleanup, csv_bytes(rows), create_missing_organizations=1)
		prepare(doc)
		run(doc, batch_size=1)
		again = new_import(cleanup, csv_bytes(rows[:2]), create_missing_organizations=1)
		prepare(again)
		run(again)
	finally:
		frappe.set_user("Administrator")
		frappe.db.set_single_value("Opportunity Settings", "alerts_on_import", 0)
		frappe.db.commit()
	made = created_records(doc, "Organization")
	cleanup["Organization"].extend(made)
	assert (doc.status, doc.created_count, doc.failed_count) == ("Completed", 2, 0), doc.error
	assert len(made) == 1 and not created_records(again, "Organization")
	stored = frappe.db.get_value("Organization", made[0], ["name", "organization_name"])
	assert stored == as_saved, (stored, as_saved)
	assert "<" not in stored[0] and "onload" not in stored[1], stored
	assert set(organizations_of(doc).values()) == set(organizations_of(again).values()) == {made[0]}


# ---------------------------------------------------------------- vCard ORG

VCF = (
	"BEGIN:VCARD\r\nVERSION:3.0\r\nN:Meier;Anna;;;\r\nFN:Anna Meier {tag}\r\n"
	"ORG:{tag} Existing AG;Einkauf\r\nEMAIL:anna.{tag}@example.com\r\nEND:VCARD\r\n"
	"BEGIN:VCARD\r\nVERSION:4.0\r\nN:Okafor;Chidi;;;\r\nFN:Chidi Okafor {tag}\r\n"
	"ORG:{tag} New Ltd\r\nEMAIL:chidi.{tag}@example.com\r\nEND:VCARD\r\n"
	"BEGIN:VCARD\r\nVERSION:2.1\r\nN:Okafor;Ada;;;\r\nFN:Ada Okafor {tag}\r\n"
	"ORG:{tag} NEW LTD\r\nEMAIL:ada.{tag}@example.com\r\nEND:VCARD\r\n"
	"BEGIN:VCARD\r\nVERSION:3.0\r\nN:Solo;Sam;;;\r\nFN:Sam Solo {tag}\r\n"
	"EMAIL:sam.{tag}@example.com\r\nEND:VCARD\r\n"
)


def contact_links(email: str) -> list[tuple[str, str]]:
	contact = frappe.get_doc("Contact", {"email_id": email})
	return [(link.link_doctype, link.link_name) for link in contact.links]


def test_vcard_org_matches_an_existing_organization_or_makes_one_and_undo_removes_what_it_made(cleanup):
	tag = frappe.generate_hash(length=8)
	existing = committed_organization(cleanup, f"{tag} EXISTING ag")
	doc = new_import(
		cleanup,
		VCF.format(tag=tag).encode(),
		"vcf",
		vcard_name_pattern="{organization} – {full_name}",
		defaults=VCF_DEFAULTS,
	)
	prepare(doc)
	run(doc)
	assert (doc.rows_read, doc.created_count, doc.failed_count) == (4, 4, 0), doc.error
	contacts = created_records(doc, "Contact")
	cleanup["Contact"].extend(contacts)
	made = created_records(doc, "Organization")
	assert len(made) == 1 and len(contacts) == 4
	new_ltd = made[0]
	assert frappe.db.get_value("Organization", new_ltd, "organization_name") == f"{tag} New Ltd"
	assert sorted(tagged_organizations(tag)) == sorted([existing, new_ltd])

	# each contact is linked to its card's organization (Dynamic Link); the opportunity gets it too
	assert contact_links(f"anna.{tag}@example.com") == [("Organization", existing)]
	assert contact_links(f"chidi.{tag}@example.com") == [("Organization", new_ltd)]
	assert contact_links(f"ada.{tag}@example.com") == [("Organization", new_ltd)]
	assert contact_links(f"sam.{tag}@example.com") == []
	assert organizations_of(doc) == {
		f"{tag} Existing AG – Anna Meier {tag}": existing,
		f"{tag} New Ltd – Chidi Okafor {tag}": new_ltd,
		f"{tag} NEW LTD – Ada Okafor {tag}": new_ltd,
		f"Sam Solo {tag}": None,
	}
	contact_of = dict(
		frappe.get_all(
			"Opportunity",
			filters={"name": ("in", created(doc))},
			fields=["opportunity_name", "contact"],
			as_list=True,
		)
	)
	assert frappe.db.get_value("Contact", contact_of[f"{tag} New Ltd – Chidi Okafor {tag}"], "email_id") == (
		f"chidi.{tag}@example.com"
	)

	# undo: the opportunities, the contacts and the organization the run made go; the existing one stays
	from opportunity_suite.api.importing import undo_import

	report = undo_import(doc.name)
	frappe.db.commit()
	assert report["deleted"] == 4 + 4 + 1 and not report["kept"] and not report["changed_since"]
	assert not any(frappe.db.exists("Contact", name) for name in contacts)
	assert tagged_organizations(tag) == [existing]


def test_vcard_org_without_create_rights_fails_the_card_and_makes_no_contact(cleanup):
	tag = frappe.generate_hash(length=8)
	existing = committed_organization(cleanup, f"{tag} Existing AG")
	user = make_user("Sales Manager")
	cleanup["User"].append(user)
	frappe.db.commit()
	with organization_create_revoked():
		frappe.set_user(user)
		doc = new_import(cleanup, VCF.format(tag=tag).encode(), "vcf", defaults=VCF_DEFAULTS)
		prepare(doc)
		run(doc)
		frappe.set_user("Administrator")
	contacts = created_records(doc, "Contact")
	cleanup["Contact"].extend(contacts)
	assert (doc.rows_read, doc.created_count, doc.failed_count) == (4, 2, 2), doc.error
	assert_accounted(doc)
	assert tagged_organizations(tag) == [existing]
	assert len(contacts) == 2
	assert not frappe.db.exists("Contact Email", {"email_id": f"chidi.{tag}@example.com"})
	reasons = failed_reasons(doc)
	assert set(reasons.values()) == {
		f"Organization {tag} New Ltd does not exist, and you may not create organizations."
	}


DUPLICATE_VCF = (
	"BEGIN:VCARD\r\nVERSION:3.0\r\nN:Meier;Anna;;;\r\nFN:Anna Meier {tag}\r\n"
	"ORG:{tag} SPACED ltd\r\nEMAIL:anna.{tag}@example.com\r\nEND:VCARD\r\n"
	"BEGIN:VCARD\r\nVERSION:3.0\r\nN:Okafor;Chidi;;;\r\nFN:Chidi Okafor {tag}\r\n"
	"ORG:{tag} Fresh Ltd\r\nEMAIL:chidi.{tag}@example.com\r\nEND:VCARD\r\n"
)


@pytest.mark.parametrize("one_save_each", [False, True], ids=["batch insert", "one save each"])
def test_a_vcard_org_a_save_would_refuse_as_a_duplicate_is_refused_by_the_batch_too(cleanup, one_save_each):
	"""Organization.validate refuses a name an older record has once trimmed (services/duplicates.py): a
	batch asks that for all its new organizations in one query, and refuses what a save refuses. An old
	record stored untrimmed (`  X ltd`) isn't found by name, so the card's ORG is "missing"; making it
	would be a duplicate: the card keeps no organization, with the save's reason, on both paths."""
	tag = frappe.generate_hash(length=8)
	old = committed_organization(cleanup, f"{tag} Old")  # its ID isn't the name the card gives
	frappe.db.set_value("Organization", old, "organization_name", f"   {tag} Spaced Ltd")  # as an old row
	frappe.db.set_single_value("Opportunity Settings", "alerts_on_import", int(one_save_each))
	frappe.db.commit()
	try:
		doc = new_import(cleanup, DUPLICATE_VCF.format(tag=tag).encode(), "vcf", defaults=VCF_DEFAULTS)
		prepare(doc)
		run(doc)
	finally:
		frappe.db.set_single_value("Opportunity Settings", "alerts_on_import", 0)
		frappe.db.commit()
	cleanup["Contact"].extend(created_records(doc, "Contact"))
	made = created_records(doc, "Organization")
	cleanup["Organization"].extend(made)
	assert (doc.rows_read, doc.created_count, doc.failed_count) == (2, 2, 0), doc.error
	assert [frappe.db.get_value("Organization", n, "organization_name") for n in made] == [f"{tag} Fresh Ltd"]
	assert contact_links(f"anna.{tag}@example.com") == []
	assert contact_links(f"chidi.{tag}@example.com") == [("Organization", made[0])]
	from tests.test_import_vcard import results_of

	warning = results_of(doc)[2]["Reason or Warnings"]
	assert f"Organization {tag} SPACED ltd could not be created" in warning and old in warning, warning
