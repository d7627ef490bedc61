# ruff: noqa: F811 (the cleanup fixture is imported, then used as an argument)
"""Opportunity Import: each file kind, bad input, duplicate policies, templates, undo, failed rows,
permissions. Runs commit per batch, so every test registers what it made with the `cleanup` fixture."""

import csv
import io

import frappe
import pytest
from frappe.utils import getdate, today

from opportunity_suite.services.importing.mapping import MappingError
from opportunity_suite.services.importing.readers import ImportFileError
from tests.factories import make_user, unique
from tests.import_fixtures import (
	IMPORT,
	assert_accounted,
	cleanup,  # noqa: F401 (fixture)
	created,
	csv_bytes,
	new_import,
	prepare,
	run,
	xlsx_bytes,
)

HEADER = ["Opportunity Name", "Amount", "Sales Stage", "Expected Close Date", "Probability (%)", "Next Step"]


def opportunities(doc, *fields):
	names = created(doc)
	return {
		r.opportunity_name: r
		for r in frappe.get_all(
			"Opportunity",
			filters={"name": ("in", names or [""])},
			fields=["name", "opportunity_name", *fields],
		)
	}


def test_csv_import_creates_like_a_save(cleanup):
	tag = unique("Imp")
	rows = [
		HEADER,
		[f"{tag} A", "1,000.50", "prospecting", "2026-12-31", "", "=call"],
		[f"{tag} B", "$12,000", "Closed Won  ", "2026-12-01", "", ""],
	]
	doc = new_import(cleanup, csv_bytes(rows))
	prepare(doc)
	assert [c.fieldname for c in doc.columns] == [
		"opportunity_name",
		"amount",
		"sales_stage",
		"expected_close_date",
		"probability",
		"next_step",
	]
	run(doc)
	assert doc.status == "Completed", doc.error
	assert (doc.rows_read, doc.created_count, doc.failed_count) == (2, 2, 0)
	made = opportunities(
		doc,
		"amount",
		"sales_stage",
		"probability",
		"forecast_amount",
		"status",
		"closed_on",
		"base_amount",
		"next_step",
		"assigned_to",
	)
	a, b = made[f"{tag} A"], made[f"{tag} B"]
	assert a.name.startswith("OPP-") and a.sales_stage == "Prospecting" and a.probability == 10
	assert (a.amount, a.forecast_amount, a.base_amount) == (1000.5, 100.05, 1000.5)
	assert a.next_step == "=call" and a.assigned_to == "Administrator"
	assert (b.sales_stage, b.status, b.probability, b.amount, getdate(b.closed_on)) == (
		"Closed Won",
		"Won",
		100,
		12000,
		getdate(today()),
	)
	# findable at once through global search
	assert frappe.db.exists("__global_search", {"doctype": "Opportunity", "name": a.name})
	# the same values a save gives
	saved = frappe.get_doc("Opportunity", a.name)
	saved.save()
	assert (saved.forecast_amount, saved.status, saved.probability) == (
		a.forecast_amount,
		a.status,
		a.probability,
	)


# ---------------------------------------------------------------- CSV shapes and encodings


@pytest.mark.parametrize(
	"delimiter,line_end,encoding,bom",
	[
		(";", "\r\n", "utf-8", True),
		("|", "\n", "utf-8", False),
		("\t", "\r", "utf-8", False),
		(",", "\n", "cp1252", False),
	],
)
def test_csv_delimiters_line_ends_bom_and_encodings(cleanup, delimiter, line_end, encoding, bom):
	tag = unique("Shape")
	rows = [
		HEADER[:4],
		[f'{tag} Café; "quoted"|\ttabs', "100", "Prospecting", "2026-12-31"],
		[f"{tag} multi\nline, with comma", "200", "Qualification", "2026-12-30"],
	]
	doc = new_import(cleanup, csv_bytes(rows, delimiter, encoding, line_end, bom))
	prepare(doc)
	assert doc.detected_encoding == ("utf-8" if encoding == "utf-8" else doc.detected_encoding)
	if encoding != "utf-8":
		doc.encoding = "cp1252"
		doc.save()
	assert [c.fieldname for c in doc.columns] == [
		"opportunity_name",
		"amount",
		"sales_stage",
		"expected_close_date",
	]
	run(doc)
	assert doc.status == "Completed", doc.error
	assert set(opportunities(doc)) == {rows[1][0], rows[2][0]}


def test_encoding_is_suggested_and_a_bad_byte_fails_before_any_write(cleanup):
	tag = unique("Enc")
	good = csv_bytes([HEADER[:4], [f"{tag} ok", "1", "Prospecting", "2026-12-31"]])
	content = good + f"{tag} Caf".encode() + b"\xe9,2,Prospecting,2026-12-31\r\n"
	doc = new_import(cleanup, content, encoding="utf-8")
	with pytest.raises(ImportFileError, match=r"line 3.*suggested: cp1252"):
		prepare(doc)
	# started anyway (map made on a good prefix): the run fails before writing anything
	doc.reload()
	doc.import_file = new_import(cleanup, good).import_file
	doc.save()
	prepare(doc)
	frappe.db.set_value("File", {"file_url": doc.import_file}, "file_url", doc.import_file)
	with open(frappe.get_doc("File", {"file_url": doc.import_file}).get_full_path(), "ab") as f:
		f.write(f"{tag} Caf".encode() + b"\xe9,2,Prospecting,2026-12-31\r\n")
	with pytest.raises(ImportFileError, match="line 3"):
		run(doc)
	assert frappe.db.count("Opportunity", {"opportunity_name": ("like", f"{tag}%")}) == 0
	# with the suggested encoding it imports
	doc.reload()
	doc.encoding = "cp1252"
	doc.save()
	run(doc)
	assert doc.created_count == 2 and f"{tag} Café" in opportunities(doc)


def test_detected_encoding_suggestion_for_legacy_file(cleanup):
	tag = unique("Latin")
	rows = [HEADER[:4]] + [
		[f"{tag} Société Générale Müller {i}", "1", "Prospecting", "2026-12-31"] for i in range(30)
	]
	doc = new_import(cleanup, csv_bytes(rows, encoding="cp1252"), encoding="cp1252")
	prepare(doc)
	assert doc.detected_encoding and doc.detected_encoding != "utf-8"
	run(doc)
	assert doc.created_count == 30
	assert f"{tag} Société Générale Müller 0" in opportunities(doc)


# ---------------------------------------------------------------- XLSX


def test_xlsx_chosen_sheet_typed_cells_and_excel_serials(cleanup):
	import datetime

	tag = unique("Xl")
	sheets = {
		"Notes": [["nothing here"]],
		"Deals": [
			HEADER[:5],
			[f"{tag} A", 1500.25, "Prospecting", datetime.datetime(2026, 12, 31), 35],
			[f"{tag} B", "2,000", "Qualification", 46387, None],  # Excel serial for 2026-12-31
			[f"{tag} C", float("nan"), "Qualification", "2026-02-30", None],
		],
	}
	doc = new_import(cleanup, xlsx_bytes(sheets), "xlsx", sheet_name="Deals")
	prepare(doc)
	run(doc)
	assert (doc.rows_read, doc.created_count, doc.failed_count) == (3, 2, 1)
	made = opportunities(doc, "amount", "expected_close_date", "probability", "probability_is_manual")
	assert (
		made[f"{tag} A"].amount == 1500.25
		and made[f"{tag} A"].probability == 35
		and made[f"{tag} A"].probability_is_manual
	)
	assert getdate(made[f"{tag} B"].expected_close_date) == getdate("2026-12-31")
	assert_accounted(doc)


def test_xlsx_unknown_sheet_is_refused(cleanup):
	doc = new_import(cleanup, xlsx_bytes({"Deals": [HEADER[:4]]}), "xlsx", sheet_name="Nope")
	with pytest.raises(ImportFileError, match="Nope"):
		prepare(doc)


# ---------------------------------------------------------------- values


def test_number_and_date_parsing_rules():
	from opportunity_suite.services.importing import values

	assert values.parse_number("1.234,56", "1.234,56") == values.Decimal("1234.56")
	assert values.parse_number("1 234,56", "1 234,56") == values.Decimal("1234.56")
	assert values.parse_number("1\u202f234,56", "1 234,56") == values.Decimal("1234.56")
	assert values.parse_number("$12,000", "1,234.56") == 12000
	assert values.parse_number("-$1,200.50", "1,234.56") == values.Decimal("-1200.50")
	assert values.parse_number("(1,200)", "1,234.56") == -1200
	assert values.parse_number("EUR 99", "1,234.56") == 99
	assert values.to_percent("50%", "1,234.56") == 50
	for bad, fmt in (
		("1,234.56", "1.234,56"),
		("12,34", "1,234.56"),
		("NaN", "1,234.56"),
		("inf", "1,234.56"),
		("1e5", "1,234.56"),
		("12abc", "1,234.56"),
	):
		with pytest.raises(values.CellError):
			values.parse_number(bad, fmt)
	with pytest.raises(values.CellError):
		values.to_percent("101", "1,234.56")
	with pytest.raises(values.CellError):
		values.to_currency("1,000,000,000,000", "1,234.56")
	with pytest.raises(values.CellError):
		values.to_float(float("inf"), "1,234.56")
	assert values.to_date("31.12.2026", "dd.mm.yyyy") == getdate("2026-12-31")
	assert values.to_date("12/31/2026", "mm/dd/yyyy") == getdate("2026-12-31")
	assert values.to_date("2026-12-31", "dd/mm/yyyy") == getdate("2026-12-31")  # ISO always understood
	assert values.to_date("46387") == getdate("2026-12-31")
	for bad in ("2026-02-29", "31/04/2026", "13/13/2026", "0"):
		with pytest.raises(values.CellError):
			values.to_date(bad, "dd/mm/yyyy")


def test_bad_rows_fail_with_reasons_and_the_rest_of_the_batch_is_kept(cleanup):
	tag = unique("Bad")
	rows = [
		HEADER,
		[f"{tag} ok", "1.234,56", "Prospecting", "31.12.2026", "", ""],
		[f"{tag} nan", "NaN", "Prospecting", "31.12.2026", "", ""],
		[f"{tag} big", "10.000.000.000.000", "Prospecting", "31.12.2026", "", ""],
		[f"{tag} prob", "1", "Prospecting", "31.12.2026", "150", ""],
		[f"{tag} date", "1", "Prospecting", "30.02.2026", "", ""],
		[f"{tag} stage", "1", "No Such Stage", "31.12.2026", "", ""],
		["", "1", "Prospecting", "31.12.2026", "", ""],
		[f"{tag} lost", "1", "Closed Lost", "31.12.2026", "", ""],
		[f"{tag} long" + "x" * 200, "1", "Prospecting", "31.12.2026", "", ""],
		[f"{tag} ok2", "2,5", "prospecting ", "31.12.2026", "50%", "=SUM(A1)"],
	]
	doc = new_import(cleanup, csv_bytes(rows), number_format="1.234,56", date_format="dd.mm.yyyy")
	prepare(doc)
	run(doc, batch_size=4)
	assert (doc.rows_read, doc.created_count, doc.failed_count, doc.status) == (
		10,
		2,
		8,
		"Completed with Errors",
	)
	assert_accounted(doc)
	made = opportunities(doc, "amount", "probability", "next_step")
	assert made[f"{tag} ok"].amount == 1234.56
	assert (made[f"{tag} ok2"].amount, made[f"{tag} ok2"].probability, made[f"{tag} ok2"].next_step) == (
		2.5,
		50,
		"=SUM(A1)",
	)

	# the failed rows file: original row + reason, importable again once fixed
	file = frappe.get_doc("File", {"file_url": doc.failed_rows_file})
	failed = list(
		csv.reader(
			io.StringIO(
				file.get_content().decode() if isinstance(file.get_content(), bytes) else file.get_content()
			)
		)
	)
	assert failed[0] == [*HEADER, "Import Row", "Import Error"]
	reasons = {r[0]: r[-1] for r in failed[1:]}
	assert len(failed) == 9
	assert "not a number" in reasons[f"{tag} nan"]
	assert "largest amount" in reasons[f"{tag} big"]
	assert "between 0 and 100" in reasons[f"{tag} prob"]
	assert "not a valid date" in reasons[f"{tag} date"]
	assert "No Such Stage" in reasons[f"{tag} stage"]
	assert "Opportunity Name" in reasons[""]
	assert "Lost Reason" in reasons[f"{tag} lost"]
	assert "longer than 140" in reasons[f"{tag} long" + "x" * 200]
	assert failed[1][:4] == rows[2][:4]

	# fix two rows in the failed file and import only those again
	fixed = [failed[0]] + [r for r in failed[1:] if r[0] in (f"{tag} nan", f"{tag} stage")]
	fixed[1][1], fixed[2][2] = "7", "Prospecting"
	again = new_import(cleanup, csv_bytes(fixed), number_format="1.234,56", date_format="dd.mm.yyyy")
	prepare(again)
	assert again.columns[-2].ignore == again.columns[-1].ignore == 1  # the row and reason are left out
	run(again)
	assert (again.created_count, again.failed_count) == (2, 0)


# ---------------------------------------------------------------- mapping


def test_unknown_and_duplicate_headers_must_be_decided(cleanup):
	tag = unique("Map")
	rows = [
		["Opportunity Name", "Amount", "Sales Stage", "Expected Close Date", "Shoe Size", "amount "],
		[f"{tag}", "1", "Prospecting", "2026-12-31", "44", "2"],
	]
	doc = new_import(cleanup, csv_bytes(rows))
	prepare(doc)
	assert [c.fieldname for c in doc.columns][4:] == [None, None]
	with pytest.raises(MappingError, match="Shoe Size"):
		run(doc)
	doc.reload()
	doc.columns[5].fieldname = "amount"
	doc.columns[4].ignore = 1
	doc.save()
	with pytest.raises(MappingError, match="same field"):
		run(doc)
	doc.reload()
	doc.columns[5].fieldname = None
	doc.columns[5].ignore = 1
	doc.save()
	run(doc)
	assert doc.created_count == 1 and opportunities(doc, "amount")[tag].amount == 1


def test_saving_the_form_never_rewinds_the_run(cleanup):
	"""A form opened before the run and saved during or after it keeps the run's state (status, counts,
	checkpoint) as the run wrote it: a stale "Queued" would stop a live run."""
	tag = unique("Stale form")
	doc = new_import(cleanup, csv_bytes([HEADER[:4], [f"{tag} A", "1", "Prospecting", "2026-12-31"]]))
	prepare(doc)
	stale = frappe.get_doc(IMPORT, doc.name)
	run(doc)
	stale.date_format = "dd-mm-yyyy"
	stale.save()
	doc.reload()
	assert (doc.status, doc.rows_read, doc.created_count, doc.checkpoint) == ("Completed", 1, 1, 2)
	assert doc.date_format == "dd-mm-yyyy"


def test_template_is_saved_and_reused(cleanup):
	from opportunity_suite.services.importing import jobs

	tag = unique("Tpl")
	rows = [
		["Deal", "Value", "Phase", "Close", "Junk"],
		[f"{tag} 1", "1.000", "Prospecting", "31/12/2026", "x"],
	]
	doc = new_import(
		cleanup,
		csv_bytes(rows),
		number_format="1.234,56",
		date_format="dd/mm/yyyy",
		defaults='{"lead_source": "Partner"}',
	)
	prepare(
		doc,
		ignore=("Junk",),
		Deal="opportunity_name",
		Value="amount",
		Phase="sales_stage",
		Close="expected_close_date",
	)
	template = jobs.save_template(doc, unique("Template"))
	cleanup["Opportunity Import Template"].append(template)
	run(doc)
	assert doc.created_count == 1

	second = new_import(
		cleanup,
		csv_bytes([rows[0], [f"{tag} 2", "2.500,5", "Qualification", "01/12/2026", "y"]]),
		template=template,
	)
	prepare(second)
	assert [(c.fieldname, c.ignore) for c in second.columns] == [
		("opportunity_name", 0),
		("amount", 0),
		("sales_stage", 0),
		("expected_close_date", 0),
		(None, 1),
	]
	assert (second.number_format, second.date_format) == ("1.234,56", "dd/mm/yyyy")
	run(second)
	made = opportunities(second, "amount", "lead_source", "expected_close_date")[f"{tag} 2"]
	assert (made.amount, made.lead_source, getdate(made.expected_close_date)) == (
		2500.5,
		"Partner",
		getdate("2026-12-01"),
	)


# ---------------------------------------------------------------- duplicates


def _existing(tag, **values):
	from tests.factories import make_opportunity

	doc = make_opportunity(opportunity_name=f"{tag} Existing", **values)
	frappe.db.commit()
	return doc


@pytest.mark.parametrize("policy", ["None", "Skip", "Overwrite", "Merge"])
def test_duplicate_policies(cleanup, policy):
	tag = unique("Dup")
	existing = _existing(tag, amount=100, next_step="keep me", campaign=None)
	cleanup["Opportunity"].append(existing.name)
	rows = [
		["Opportunity Name", "Amount", "Sales Stage", "Expected Close Date", "Next Step", "Campaign"],
		[
			f"{tag} EXISTING  ",
			"500",
			"Qualification",
			"2026-12-31",
			"",
			"Spring",
		],  # matches case/space-insensitively
		[f"{tag} new", "1", "Prospecting", "2026-12-31", "first", ""],
		[f"{tag} NEW", "2", "Prospecting", "2026-12-31", "", "Autumn"],  # duplicate within the file
	]
	doc = new_import(cleanup, csv_bytes(rows), duplicate_policy=policy, match_fields="opportunity_name")
	prepare(doc)
	run(doc)
	assert_accounted(doc)
	after = frappe.db.get_value(
		"Opportunity",
		existing.name,
		["amount", "next_step", "campaign", "sales_stage", "probability"],
		as_dict=True,
	)
	news = frappe.get_all(
		"Opportunity",
		filters={"opportunity_name": ("like", f"{tag} new")},
		fields=["name", "amount", "next_step", "campaign"],
	)
	cleanup["Opportunity"].extend(n.name for n in news)
	if policy == "None":
		assert (doc.created_count, doc.updated_count, doc.skipped_count) == (3, 0, 0)
		assert len(news) == 2 and after.amount == 100
	elif policy == "Skip":
		assert (doc.created_count, doc.updated_count, doc.skipped_count) == (1, 0, 2)
		assert after.amount == 100 and len(news) == 1 and news[0].amount == 1
	elif policy == "Overwrite":
		assert (doc.created_count, doc.updated_count, doc.skipped_count) == (1, 2, 0)
		# an empty cell never blanks a field
		assert (after.amount, after.next_step, after.campaign, after.sales_stage, after.probability) == (
			500,
			"keep me",
			"Spring",
			"Qualification",
			20,
		)
		assert len(news) == 1 and (news[0].amount, news[0].next_step, news[0].campaign) == (
			2,
			"first",
			"Autumn",
		)
	else:
		assert (doc.created_count, doc.updated_count, doc.skipped_count) == (1, 2, 0)
		assert (after.amount, after.next_step, after.campaign) == (100, "keep me", "Spring")
		assert len(news) == 1 and (news[0].amount, news[0].next_step, news[0].campaign) == (
			1,
			"first",
			"Autumn",
		)


def test_duplicates_only_against_records_the_user_can_read(cleanup):
	from frappe.permissions import add_user_permission

	tag = unique("Perm")
	existing = _existing(tag)
	cleanup["Opportunity"].append(existing.name)
	user = make_user("Sales Manager")
	cleanup["User"].append(user)
	other = _existing(unique("Other"))
	cleanup["Opportunity"].append(other.name)
	add_user_permission("Opportunity", other.name, user, applicable_for="Opportunity")
	frappe.db.commit()
	frappe.set_user(user)
	rows = [HEADER[:4], [f"{tag} Existing", "1", "Prospecting", "2026-12-31"]]
	doc = new_import(cleanup, csv_bytes(rows), duplicate_policy="Skip", match_fields="opportunity_name")
	prepare(doc)
	run(doc)
	# the existing record is not readable by this user: the row creates a new one
	assert (doc.created_count, doc.skipped_count) == (1, 0)
	frappe.set_user("Administrator")
	frappe.db.delete("User Permission", {"user": user})
	frappe.db.commit()


# ---------------------------------------------------------------- undo


def test_undo_removes_created_restores_overwritten_and_reports_changed(cleanup):
	tag = unique("Undo")
	existing = _existing(tag, amount=100, campaign="Old")
	cleanup["Opportunity"].append(existing.name)
	before_modified = frappe.db.get_value("Opportunity", existing.name, "modified")
	rows = [
		["Opportunity Name", "Amount", "Sales Stage", "Expected Close Date", "Campaign"],
		[f"{tag} Existing", "900", "Qualification", "2026-12-31", "New"],
		[f"{tag} a", "1", "Prospecting", "2026-12-31", ""],
		[f"{tag} b", "2", "Prospecting", "2026-12-31", ""],
	]
	doc = new_import(cleanup, csv_bytes(rows), duplicate_policy="Overwrite", match_fields="opportunity_name")
	prepare(doc)
	run(doc)
	made = created(doc)
	assert len(made) == 2 and frappe.db.get_value("Opportunity", existing.name, "amount") == 900
	# someone edits one of the created records after the import
	edited = frappe.get_doc("Opportunity", made[1])
	edited.next_step = "edited by hand"
	edited.save()
	frappe.db.commit()

	from opportunity_suite.api.importing import undo_import

	report = undo_import(doc.name)
	frappe.db.commit()
	assert report["deleted"] == 1 and report["restored"] == 1 and report["changed_since"] == [made[1]]
	assert not frappe.db.exists("Opportunity", made[0])
	assert not frappe.db.exists("__global_search", {"doctype": "Opportunity", "name": made[0]})
	assert frappe.db.exists("Opportunity", made[1])
	restored = frappe.db.get_value(
		"Opportunity",
		existing.name,
		["amount", "campaign", "sales_stage", "probability", "modified"],
		as_dict=True,
	)
	assert (restored.amount, restored.campaign, restored.sales_stage, restored.probability) == (
		100,
		"Old",
		"Prospecting",
		10,
	)
	assert restored.modified == before_modified
	doc.reload()
	assert doc.status == "Undone" and made[1] in doc.undo_report


def test_undo_only_by_owner_or_sales_manager(cleanup):
	from opportunity_suite.api.importing import undo_import

	tag = unique("UndoPerm")
	owner = make_user("Sales User", "Sales Manager")
	other_user = make_user("Sales User")
	manager = make_user("Sales Manager")
	cleanup["User"].extend([owner, other_user, manager])
	frappe.db.commit()
	frappe.set_user(owner)
	doc = new_import(cleanup, csv_bytes([HEADER[:4], [tag, "1", "Prospecting", "2026-12-31"]]))
	prepare(doc)
	run(doc)
	assert doc.created_count == 1
	frappe.db.commit()
	frappe.set_user(other_user)
	with pytest.raises(frappe.PermissionError):
		undo_import(doc.name)
	frappe.set_user(manager)
	assert undo_import(doc.name)["deleted"] == 1
	frappe.db.commit()


# ---------------------------------------------------------------- permissions


def test_importing_needs_import_and_create_on_opportunity(cleanup):
	from opportunity_suite.api.importing import prepare_import, start_import

	user = make_user("Sales User")  # Sales User has create but not import on Opportunity
	cleanup["User"].append(user)
	doc = new_import(cleanup, csv_bytes([HEADER[:4], [unique("P"), "1", "Prospecting", "2026-12-31"]]))
	frappe.db.set_value(IMPORT, doc.name, "owner", user)
	frappe.set_user(user)
	with pytest.raises(frappe.PermissionError):
		prepare_import(doc.name)
	with pytest.raises(frappe.PermissionError):
		start_import(doc.name)


def test_start_import_allowed_for_sales_manager(cleanup):
	from opportunity_suite.api.importing import get_import_status, prepare_import, start_import

	user = make_user("Sales Manager")
	cleanup["User"].append(user)
	frappe.db.commit()
	frappe.set_user(user)
	doc = new_import(cleanup, csv_bytes([HEADER[:4], [unique("P"), "1", "Prospecting", "2026-12-31"]]))
	prepare_import(doc.name)
	result = start_import(doc.name)
	assert result["job_id"].startswith(f"opportunity_import::{doc.name}::")
	assert get_import_status(doc.name)["status"] == "Queued"
	frappe.db.rollback()  # don't leave the job queued


def test_overwrite_needs_write_permission(cleanup):
	from opportunity_suite.api.importing import start_import

	user = make_user("Sales Manager")
	cleanup["User"].append(user)
	doc = new_import(
		cleanup,
		csv_bytes([HEADER[:4], [unique("P"), "1", "Prospecting", "2026-12-31"]]),
		duplicate_policy="Overwrite",
		match_fields="opportunity_name",
	)
	frappe.db.set_value(IMPORT, doc.name, "owner", user)
	frappe.set_user(user)
	# Sales Manager may write: allowed to start
	assert start_import(doc.name)["job_id"]
	frappe.db.rollback()


def test_link_forbidden_by_user_permissions_fails_the_row(cleanup):
	from frappe.permissions import add_user_permission

	user = make_user("Sales Manager")
	cleanup["User"].append(user)
	add_user_permission("Opportunity Stage", "Prospecting", user, applicable_for="Opportunity")
	frappe.db.commit()
	frappe.set_user(user)
	tag = unique("UP")
	doc = new_import(
		cleanup,
		csv_bytes(
			[
				HEADER[:4],
				[f"{tag} a", "1", "Prospecting", "2026-12-31"],
				[f"{tag} b", "1", "Qualification", "2026-12-31"],
			]
		),
	)
	prepare(doc)
	run(doc)
	frappe.set_user("Administrator")
	frappe.db.delete("User Permission", {"user": user})
	frappe.db.commit()
	assert (doc.created_count, doc.failed_count) == (1, 1)
	file = frappe.get_doc("File", {"file_url": doc.failed_rows_file})
	assert (
		"not permitted" in file.get_content().decode()
		if isinstance(file.get_content(), bytes)
		else "not permitted" in file.get_content()
	)


# ---------------------------------------------------------------- vCards

VCF = (
	"BEGIN:VCARD\r\n"
	"VERSION:2.1\r\n"
	"N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:M=C3=BCller;J=C3=BCrgen;;;\r\n"
	"FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:J=C3=BCrgen M=C3=BCller {tag}\r\n"
	"ORG;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:{tag} Gr=C3=BCn AG\r\n"
	"NOTE;ENCODING=QUOTED-PRINTABLE:first line=0D=0A=\r\nsecond line\r\n"
	"TEL;WORK;VOICE:+49 30 1234567\r\n"
	"TEL;CELL:+49 170 7654321\r\n"
	"EMAIL;INTERNET;PREF:juergen.{mail}@example.com\r\n"
	"PHOTO;ENCODING=BASE64;TYPE=JPEG:/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHR\r\n"
	" ofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL/2wBDAQkJCQwLDBgNDRgyIRwhMjIy\r\n"
	"\r\n"
	"END:VCARD\r\n"
	"BEGIN:VCARD\n"
	"VERSION:3.0\n"
	"N:Rossi;Carla;;Dr.;\n"
	"FN:Carla Rossi {tag}\n"
	"ORG:{tag} Rossi\\, Bianchi & Co;Sales\n"
	"TITLE:Head of\n"
	"  Purchasing\n"
	"item1.TEL;TYPE=WORK:+39 02 555 0101\n"
	"item1.X-ABLabel:Office\n"
	"item2.EMAIL;TYPE=INTERNET:carla.{mail}@example.it\n"
	"EMAIL;TYPE=HOME:carla.home.{mail}@example.it\n"
	"NOTE:Prefers email\\; calls after 3pm\\nNo Fridays\n"
	"END:VCARD\n"
	"BEGIN:VCARD\r\n"
	"VERSION:4.0\r\n"
	"FN:Noah Becker {tag}\r\n"
	"N:Becker;Noah;;;\r\n"
	'TEL;VALUE=uri;TYPE="voice,cell":tel:+1-555-555-0199\r\n'
	"EMAIL;PREF=1:noah.{mail}@example.com\r\n"
	"END:VCARD\r\n"
)


def test_vcard_parsing_versions_folding_qp_escapes_groups():
	from opportunity_suite.services.importing.vcard import COLUMNS, iter_cards

	cards = [
		dict(zip(COLUMNS, row, strict=False))
		for row in iter_cards(iter(VCF.format(tag="T", mail="m").splitlines(keepends=True)))
	]
	assert len(cards) == 3
	a, b, c = cards
	assert (a["First Name"], a["Last Name"], a["Full Name"], a["Organization"]) == (
		"Jürgen",
		"Müller",
		"Jürgen Müller T",
		"T Grün AG",
	)
	assert a["Note"] == "first line\r\nsecond line"
	assert (a["Phone"], a["Mobile"], a["Email"]) == (
		"+49 30 1234567",
		"+49 170 7654321",
		"juergen.m@example.com",
	)
	assert (b["Organization"], b["Department"], b["Title"]) == (
		"T Rossi, Bianchi & Co",
		"Sales",
		"Head of Purchasing",
	)
	assert b["Note"] == "Prefers email; calls after 3pm\nNo Fridays"
	assert (b["Phone"], b["Email"], b["Other Emails"]) == (
		"+39 02 555 0101",
		"carla.m@example.it",
		"carla.home.m@example.it",
	)
	assert (c["Mobile"], c["Email"], c["Organization"]) == ("+1-555-555-0199", "noah.m@example.com", "")
	assert not any("9j/4AAQ" in str(v) for card in cards for v in card.values())


def test_vcard_import_makes_contacts_and_opportunities(cleanup):
	tag = frappe.generate_hash(length=6)
	mail = frappe.generate_hash(length=6)
	content = VCF.format(tag=tag, mail=mail).encode("utf-8")
	doc = new_import(
		cleanup,
		content,
		"vcf",
		vcard_name_pattern="{organization} – {full_name}",
		defaults='{"sales_stage": "Qualification", "amount": 5000, "expected_close_date": "2026-12-31"}',
	)
	prepare(doc)
	assert doc.file_kind == "VCF" and not doc.columns
	run(doc)
	assert (doc.rows_read, doc.created_count, doc.failed_count) == (3, 3, 0), doc.error
	batch = frappe.get_all("Opportunity Import Batch", {"import_run": doc.name}, ["created_records"])[0]
	import json

	records = json.loads(batch.created_records)
	cleanup["Contact"].extend(records.get("Contact", []))
	cleanup["Organization"].extend(records.get("Organization", []))
	made = opportunities(doc, "amount", "sales_stage", "probability")
	assert f"{tag} Grün AG – Jürgen Müller {tag}" in made
	assert f"Noah Becker {tag}" in made  # no ORG: the pattern's empty part is dropped
	assert all(
		o.amount == 5000 and o.sales_stage == "Qualification" and o.probability == 20 for o in made.values()
	)
	contact = frappe.get_doc("Contact", {"email_id": f"juergen.{mail}@example.com"})
	assert (contact.first_name, contact.last_name, contact.company_name) == (
		"Jürgen",
		"Müller",
		f"{tag} Grün AG",
	)
	assert {p.phone for p in contact.phone_nos} == {"+49 30 1234567", "+49 170 7654321"}
	assert len(records["Contact"]) == 3

	# a second import of the same cards matches the contacts instead of making new ones
	again = new_import(
		cleanup,
		content,
		"vcf",
		defaults='{"sales_stage": "Qualification", "expected_close_date": "2026-12-31"}',
	)
	prepare(again)
	run(again)
	assert (again.created_count, again.failed_count) == (3, 0)  # no amount given: stored as 0, like a save
	again_records = json.loads(
		frappe.get_all("Opportunity Import Batch", {"import_run": again.name}, ["created_records"])[
			0
		].created_records
	)
	assert not again_records.get("Contact")


def test_vcard_organization_from_org(cleanup):
	tag = frappe.generate_hash(length=6)
	doc = new_import(
		cleanup,
		VCF.format(tag=tag, mail=tag).encode(),
		"vcf",
		defaults='{"sales_stage": "Qualification", "expected_close_date": "2026-12-31"}',
	)
	prepare(doc)
	run(doc)
	import json

	records = json.loads(
		frappe.get_all("Opportunity Import Batch", {"import_run": doc.name}, ["created_records"])[
			0
		].created_records
	)
	cleanup["Contact"].extend(records.get("Contact", []))
	cleanup["Organization"].extend(records.get("Organization", []))
	assert len(records["Organization"]) == 2
	org = frappe.db.get_value("Organization", {"organization_name": f"{tag} Grün AG"}, "name")
	assert org
	made = opportunities(doc, "organization")
	assert made[f"{tag} Grün AG – Jürgen Müller {tag}"].organization == org
	contact = frappe.get_doc("Contact", {"email_id": f"juergen.{tag}@example.com"})
	assert [(link.link_doctype, link.link_name) for link in contact.links] == [("Organization", org)]


def test_export_then_import_round_trips_neutralised_text(cleanup):
	"""Opportunity Import strips exactly the `'` our export adds, so export → import gives the same text."""
	import json as _json

	from tests.factories import make_opportunity
	from tests.test_exporting import call, csv_rows

	tag = unique("Round")
	original = make_opportunity(opportunity_name=f"{tag} src", campaign="=1+2", next_step="-minus", amount=10)
	cleanup["Opportunity"].append(original.name)  # the import's commit commits it too
	rows = csv_rows(
		call(
			"frappe.desk.reportview.export_query",
			doctype="Opportunity",
			fields=_json.dumps(
				[
					f"`tabOpportunity`.`{f}`"
					for f in (
						"opportunity_name",
						"campaign",
						"next_step",
						"amount",
						"sales_stage",
						"expected_close_date",
					)
				]
			),
			filters=_json.dumps([["Opportunity", "name", "=", original.name]]),
			file_format_type="CSV",
			title="Opportunity",
		)
	)
	assert rows[1][2] == "'=1+2"
	rows = [r[1:] for r in rows]  # drop Frappe's "Sr" column
	rows[1][0] = f"{tag} copy"
	doc = new_import(cleanup, csv_bytes(rows))
	prepare(doc, ignore=(rows[0][-1],))  # the export's extra "owner" column: ignored explicitly
	run(doc)
	copy = opportunities(doc, "campaign", "next_step", "amount")[f"{tag} copy"]
	assert (copy.campaign, copy.next_step, copy.amount) == ("=1+2", "-minus", 10)
