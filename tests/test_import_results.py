# ruff: noqa: F811 (the cleanup fixture is imported, then used as an argument)
"""Every row accounted for, visibly: each run's results file lists every data row with its number, status,
record and reason; the failed-rows file carries row numbers and neutralised cells; one bad row (whatever it
raises) fails alone and creates nothing; a run where every row failed is Failed, and can be retried."""

import csv
import io

import frappe
import pytest

from opportunity_suite.api import importing as api
from tests.factories import make_opportunity, make_user, unique
from tests.import_fixtures import cleanup, csv_bytes, new_import, prepare, run  # noqa: F401 (fixture)

HEADER = ["Opportunity Name", "Organization", "Sales Stage", "Expected Close Date", "Next Step"]


def file_rows(file_url: str) -> list[list[str]]:
	content = frappe.get_doc("File", {"file_url": file_url}).get_content()
	if isinstance(content, bytes):
		content = content.decode("utf-8")
	return list(csv.reader(io.StringIO(content)))


def results(doc) -> dict[int, dict]:
	"""The run's results file, by row number."""
	rows = file_rows(doc.results_file)
	assert rows[0] == ["Row", "Status", "Record", "Reason or Warnings"]
	return {int(r[0]): dict(zip(rows[0], r, strict=True)) for r in rows[1:]}


def test_results_file_lists_every_row_and_its_counts_add_up(cleanup):
	tag = unique("Res")
	existing = make_opportunity(opportunity_name=f"{tag} existing")
	frappe.db.commit()
	cleanup["Opportunity"].append(existing.name)
	rows = [
		HEADER,
		[f"{tag} new", "", "Prospecting", "2026-12-31", ""],  # 2: created
		[f"{tag} NEW", "", "Prospecting", "2026-12-31", ""],  # 3: skipped, duplicate of row 2's record
		[f"{tag} existing", "", "Prospecting", "2026-12-31", ""],  # 4: skipped, duplicate of existing
		[f"{tag} bad", "", "No Such Stage", "2026-12-31", ""],  # 5: failed
		[f"{tag} new ", "", "Qualification", "2026-12-31", "=1+1"],  # 6: skipped, row 2's, a batch later
		[f"{tag} other", "", "Qualification", "2026-12-31", "=1+1"],  # 7: created
	]
	doc = new_import(cleanup, csv_bytes(rows), duplicate_policy="Skip", match_fields="opportunity_name")
	prepare(doc)
	run(doc, batch_size=3)
	by_row = results(doc)
	assert sorted(by_row) == [2, 3, 4, 5, 6, 7]
	statuses = [by_row[n]["Status"] for n in sorted(by_row)]
	assert statuses == ["created", "skipped", "skipped", "failed", "skipped", "created"]
	for status, count in (("created", 2), ("updated", 0), ("skipped", 3), ("failed", 1)):
		assert statuses.count(status) == count == doc.get(f"{status}_count")
	assert doc.rows_read == len(by_row)

	made = by_row[2]["Record"]
	assert frappe.db.get_value("Opportunity", made, "opportunity_name") == f"{tag} new"
	assert by_row[3]["Record"] == made and by_row[3]["Reason or Warnings"] == f"duplicate of {made} (row 2)"
	assert by_row[4]["Record"] == existing.name
	assert by_row[4]["Reason or Warnings"] == f"duplicate of {existing.name}"
	assert by_row[5]["Record"] == "" and "No Such Stage" in by_row[5]["Reason or Warnings"]
	assert by_row[6]["Record"] == made and by_row[6]["Reason or Warnings"] == f"duplicate of {made}"

	# over REST: the same rows, for a Sales User (who may read imports); not for a user with no app role
	sales_user, outsider = make_user("Sales User"), make_user()
	cleanup["User"].extend([sales_user, outsider])
	frappe.db.commit()
	try:
		frappe.set_user(sales_user)
		frappe.local.response = frappe._dict()
		api.download_results(doc.name)
		assert frappe.response.type == "download"
		assert list(csv.reader(io.StringIO(frappe.response.filecontent))) == file_rows(doc.results_file)
		frappe.set_user(outsider)
		with pytest.raises(frappe.PermissionError):
			api.download_results(doc.name)
	finally:
		frappe.set_user("Administrator")


def test_overwrite_outcomes_are_updated_with_the_record(cleanup):
	tag = unique("ResUpd")
	existing = make_opportunity(opportunity_name=f"{tag} existing", next_step="old")
	frappe.db.commit()
	cleanup["Opportunity"].append(existing.name)
	rows = [HEADER, [f"{tag} existing", "", "Prospecting", "2026-12-31", "new"]]
	doc = new_import(cleanup, csv_bytes(rows), duplicate_policy="Overwrite", match_fields="opportunity_name")
	prepare(doc)
	run(doc)
	assert results(doc)[2] == {
		"Row": "2",
		"Status": "updated",
		"Record": existing.name,
		"Reason or Warnings": f"duplicate of {existing.name}, overwritten",
	}


def test_failed_rows_file_has_row_numbers_and_neutralised_cells(cleanup):
	tag = unique("FailFile")
	rows = [
		HEADER,
		[f"{tag} ok", "", "Prospecting", "2026-12-31", ""],
		[f"{tag} bad", "", "No Such Stage", "2026-12-31", '=HYPERLINK("http://evil.example","x")'],
	]
	doc = new_import(cleanup, csv_bytes(rows))
	prepare(doc)
	run(doc)
	failed = file_rows(doc.failed_rows_file)
	assert failed[0] == [*HEADER, "Import Row", "Import Error"]
	assert len(failed) == 2
	assert failed[1][0] == f"{tag} bad" and failed[1][-2] == "3" and "No Such Stage" in failed[1][-1]
	assert failed[1][4] == '\'=HYPERLINK("http://evil.example","x")'  # as every export of the app
	assert results(doc)[3]["Status"] == "failed"


def test_any_error_of_a_row_fails_that_row_only_with_a_readable_reason(cleanup):
	tag = unique("NameErr")
	hostile = f"New Organization {tag} Ltd"  # Frappe's validate_name: a NameError, as a save gets it
	rows = [
		HEADER,
		[f"{tag} A", "", "Prospecting", "2026-12-31", ""],
		[f"{tag} B", hostile, "Prospecting", "2026-12-31", ""],  # Frappe's NameError, not a ValidationError
		[f"{tag} C", f"{tag} Fine Org", "Prospecting", "2026-12-31", ""],
	]
	doc = new_import(cleanup, csv_bytes(rows), create_missing_organizations=1)
	prepare(doc)
	run(doc)
	cleanup["Organization"].extend(
		frappe.get_all("Organization", {"organization_name": ("like", f"%{tag}%")}, pluck="name")
	)
	assert (doc.status, doc.created_count, doc.failed_count) == ("Completed with Errors", 2, 1), doc.error
	reason = results(doc)[3]["Reason or Warnings"]
	assert f"{tag} Ltd" in reason and "errors setting the name" in reason, reason
	assert "<strong>" not in reason and "<b>" not in reason and "''" not in reason
	assert not frappe.db.exists("Organization", {"organization_name": ("like", f"%{tag} Ltd%")})
	assert frappe.db.exists("Organization", {"organization_name": f"{tag} Fine Org"})


def test_a_failed_row_creates_no_organization(cleanup):
	tag = unique("NoOrg")
	rows = [
		HEADER,
		[f"{tag} A", f"{tag} Made Org", "Prospecting", "2026-12-31", ""],
		[f"{tag} B", f"{tag} Orphan Org", "No Such Stage", "2026-12-31", ""],
		[f"{tag} C", f"{tag} Bad Date Org", "Prospecting", "2026-02-30", ""],  # no such date
	]
	doc = new_import(cleanup, csv_bytes(rows), create_missing_organizations=1)
	prepare(doc)
	run(doc)
	cleanup["Organization"].extend(
		frappe.get_all("Organization", {"organization_name": ("like", f"{tag}%")}, pluck="name")
	)
	assert (doc.created_count, doc.failed_count) == (1, 2)
	assert frappe.db.exists("Organization", {"organization_name": f"{tag} Made Org"})
	assert not frappe.db.exists("Organization", {"organization_name": f"{tag} Orphan Org"})
	assert not frappe.db.exists("Organization", {"organization_name": f"{tag} Bad Date Org"})


def test_a_run_where_every_row_failed_is_failed_and_can_be_retried(cleanup):
	tag = unique("AllFail")
	stage = f"{tag} Stage"
	rows = [
		HEADER,
		[f"{tag} A", "", stage, "2026-12-31", ""],
		[f"{tag} B", "", stage, "2026-12-31", ""],
	]
	doc = new_import(cleanup, csv_bytes(rows))
	prepare(doc)
	run(doc)
	assert (doc.status, doc.rows_read, doc.failed_count) == ("Failed", 2, 2)
	assert "fix them and import" in doc.error
	assert doc.failed_rows_file and [r["Status"] for r in results(doc).values()] == ["failed", "failed"]

	# fix what the rows need, then start the same import again: it runs from the first row
	frappe.get_doc(
		{"doctype": "Opportunity Stage", "stage_name": stage, "sequence": 999, "default_probability": 5}
	).insert()
	frappe.db.commit()
	try:
		run(doc)
		assert (doc.status, doc.rows_read, doc.created_count, doc.failed_count) == ("Completed", 2, 2, 0)
		assert doc.error is None
		assert [r["Status"] for r in results(doc).values()] == ["created", "created"]
	finally:
		cleanup["Opportunity"].extend(
			frappe.get_all("Opportunity", {"opportunity_name": ("like", f"{tag}%")}, pluck="name")
		)
		frappe.db.delete("Opportunity", {"name": ("in", cleanup["Opportunity"] or [""])})
		frappe.delete_doc("Opportunity Stage", stage, force=True)
		frappe.db.commit()
