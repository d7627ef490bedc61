# ruff: noqa: F811 (the cleanup fixture is imported, then used as an argument)
"""Opportunity Import writes the record's timeline: a Version row for each opportunity it overwrote or
merged (and for each one its undo restored), the same row a desk save writes, owned by who imported."""

import json

import frappe

from tests.factories import make_opportunity, make_user, unique
from tests.import_fixtures import (
	cleanup,  # noqa: F401 (fixture)
	csv_bytes,
	prepare,
	run,
)
from tests.import_fixtures import new_import as shared_new_import

HEADER = ["Opportunity Name", "Amount", "Sales Stage", "Campaign", "Next Step"]


def new_import(cleanup, rows, **settings):
	return shared_new_import(cleanup, csv_bytes(rows), "csv", match_fields="opportunity_name", **settings)


def committed_opportunity(cleanup, **values) -> str:
	name = make_opportunity(**values).name
	cleanup["Opportunity"].append(name)
	frappe.db.commit()
	return name


def versions_of(name: str) -> list[frappe._dict]:
	rows = frappe.get_all(
		"Version",
		filters={"ref_doctype": "Opportunity", "docname": name},
		fields=["owner", "modified_by", "creation", "data"],
		order_by="creation asc",
	)
	for row in rows:
		row.data = json.loads(row.data)
	return rows


def test_overwrite_writes_the_version_a_desk_save_writes_and_undo_writes_the_reverse(cleanup):
	tag = unique("Ver")
	values = dict(amount=100, campaign="Old", next_step="keep me", sales_stage="Prospecting")
	existing = committed_opportunity(cleanup, opportunity_name=f"{tag} Existing", **values)
	twin = committed_opportunity(cleanup, opportunity_name=f"{tag} Twin", **values)
	user = make_user("Sales Manager")
	cleanup["User"].append(user)
	frappe.db.commit()

	frappe.set_user(user)
	doc = new_import(
		cleanup,
		[HEADER, [f"{tag} Existing", "900", "Qualification", "New", ""]],
		duplicate_policy="Overwrite",
	)
	prepare(doc)
	run(doc)
	frappe.set_user("Administrator")
	assert (doc.updated_count, doc.failed_count) == (1, 0), doc.error

	# the same change saved in the desk, on a twin record
	desk = frappe.get_doc("Opportunity", twin)
	desk.update({"amount": 900, "sales_stage": "Qualification", "campaign": "New"})
	desk.save(ignore_version=False)  # Frappe skips versions under tests unless asked
	frappe.db.commit()

	(imported,) = versions_of(existing)
	(saved,) = versions_of(twin)

	# the same changes; `stage_since` (when the stage was entered) is each save's own moment
	def without_moments(changes):
		return [[f, o, n] if f != "stage_since" else [f] for f, o, n in changes]

	assert without_moments(imported.data["changed"]) == without_moments(saved.data["changed"])
	changed = {field: (old, new) for field, old, new in imported.data["changed"]}
	# in the form's field order; an empty cell (Next Step) never blanks a field, nor shows as a change
	assert list(changed) == [
		"amount",
		"probability",
		"forecast_amount",
		"sales_stage",
		"campaign",
		"base_amount",
		"base_forecast_amount",
		"stage_since",
	]
	assert changed["sales_stage"] == ("Prospecting", "Qualification")
	assert changed["campaign"] == ("Old", "New")
	assert (imported.data["added"], imported.data["removed"], imported.data["row_changed"]) == ([], [], [])
	assert imported.data["updater_reference"] == {
		"doctype": "Opportunity Import",
		"docname": doc.name,
		"label": "via Opportunity Import",
	}
	# who did it, and when: the importing user, at the record's new `modified`
	assert imported.owner == imported.modified_by == user
	assert imported.creation == frappe.db.get_value("Opportunity", existing, "modified")

	from opportunity_suite.api.importing import undo_import

	assert undo_import(doc.name)["restored"] == 1
	frappe.db.commit()
	_imported, undone = versions_of(existing)
	assert undone.owner == "Administrator"
	assert undone.data["changed"] == [[field, new, old] for field, old, new in imported.data["changed"]]
	assert undone.data["updater_reference"]["label"] == "via Undo of Opportunity Import"
	assert frappe.db.get_value("Opportunity", existing, ["amount", "campaign"]) == (100, "Old")


def test_merge_version_lists_exactly_the_filled_fields(cleanup):
	tag = unique("VerMerge")
	existing = committed_opportunity(
		cleanup, opportunity_name=f"{tag} Existing", amount=100, campaign=None, next_step="keep me"
	)
	doc = new_import(
		cleanup,
		[HEADER, [f"{tag} Existing", "500", "Qualification", "Spring", "other"]],
		duplicate_policy="Merge",
	)
	prepare(doc)
	run(doc)
	assert doc.updated_count == 1, doc.error
	(version,) = versions_of(existing)
	assert version.data["changed"] == [["campaign", None, "Spring"]]
	assert version.owner == "Administrator"


def test_identical_overwrite_writes_no_version(cleanup):
	tag = unique("VerSame")
	same = committed_opportunity(
		cleanup, opportunity_name=f"{tag} Same", amount=100, campaign="Same", next_step="same"
	)
	other = committed_opportunity(cleanup, opportunity_name=f"{tag} Other", amount=100)
	doc = new_import(
		cleanup,
		[
			HEADER,
			[f"{tag} Same", "100", "Prospecting", "Same", "same"],
			[f"{tag} Other", "250", "Prospecting", "", ""],
		],
		duplicate_policy="Overwrite",
	)
	prepare(doc)
	run(doc)
	assert doc.updated_count == 2, doc.error
	assert versions_of(same) == []
	(version,) = versions_of(other)
	assert [field for field, _old, _new in version.data["changed"]] == [
		"amount",
		"forecast_amount",
		"base_amount",
		"base_forecast_amount",
	]
