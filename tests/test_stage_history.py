# ruff: noqa: F811 (the cleanup fixture is imported, then used as an argument)
"""Opportunity Stage History: a row per change of stage, amount, probability, expected close (and forecast
category where the field exists), written by every path that changes them: desk save, REST, Kanban move,
bulk edit, import (batch-inserted), lead conversion; backfilled from Version rows; the form's facts."""

import datetime

import frappe
import pytest
from frappe.desk.doctype.bulk_update.bulk_update import submit_cancel_or_update_docs
from frappe.desk.doctype.kanban_board.kanban_board import update_order_for_single_card
from frappe.utils import add_days, get_datetime, getdate, now_datetime, today

from opportunity_suite.api.history import stage_facts
from opportunity_suite.services import history
from opportunity_suite.services.kanban import BOARD_NAME
from tests.factories import make_opportunity, make_user, unique
from tests.import_fixtures import (  # noqa: F401 (cleanup: a fixture)
	assert_accounted,
	cleanup,
	csv_bytes,
	new_import,
	prepare,
	run,
)
from tests.records_fixtures import make_lead, rest_client

HISTORY = "Opportunity Stage History"


def rows_of(name: str) -> list[frappe._dict]:
	return frappe.get_all(
		HISTORY, filters={"opportunity": name}, fields=["*"], order_by="changed_on, creation"
	)


def entered_days_ago(name: str, days: float):
	"""Put the deal's entry into its stage `days` back (as if it had sat there that long)."""
	when = now_datetime() - datetime.timedelta(days=days)
	frappe.db.set_value("Opportunity", name, "stage_since", when, update_modified=False)
	return when


@pytest.fixture
def committed():
	"""Opportunities a test commits (REST, bulk edit), deleted with their history afterwards."""
	names: list[str] = []
	yield names
	frappe.db.rollback()
	frappe.set_user("Administrator")
	for name in names:
		frappe.db.delete("Opportunity", {"name": name})
		frappe.db.delete(HISTORY, {"opportunity": name})
		frappe.db.delete("ToDo", {"reference_type": "Opportunity", "reference_name": name})
		frappe.db.delete("Version", {"ref_doctype": "Opportunity", "docname": name})
	frappe.db.commit()


def test_a_new_deal_gets_its_first_row_and_stage_since():
	opp = make_opportunity(amount=1000, sales_stage="Qualification")
	(row,) = rows_of(opp.name)
	assert (row.from_stage, row.to_stage, row.stage_changed, row.via) == (None, "Qualification", 1, "Save")
	assert (row.old_amount, row.new_amount, row.new_probability, row.changed_by) == (
		0,
		1000,
		20,
		"Administrator",
	)
	assert row.days_in_previous_stage == 0
	assert abs((get_datetime(opp.stage_since) - now_datetime()).total_seconds()) < 60


def test_desk_save_records_each_tracked_change_and_how_long_the_stage_lasted():
	opp = make_opportunity(amount=1000, sales_stage="Prospecting")
	entered_days_ago(opp.name, 3)
	opp.reload()
	opp.sales_stage = "Qualification"
	opp.save()
	row = rows_of(opp.name)[-1]
	assert (row.from_stage, row.to_stage, row.stage_changed) == ("Prospecting", "Qualification", 1)
	assert row.days_in_previous_stage == pytest.approx(3, abs=0.01)
	assert (row.old_probability, row.new_probability) == (10, 20)
	assert abs((get_datetime(opp.stage_since) - now_datetime()).total_seconds()) < 60

	opp.amount = 1500  # no stage change: a row, stage_since kept
	opp.expected_close_date = add_days(opp.expected_close_date, 10)
	since = opp.stage_since
	opp.save()
	row = rows_of(opp.name)[-1]
	assert (row.stage_changed, row.old_amount, row.new_amount, row.days_in_previous_stage) == (
		0,
		1000,
		1500,
		0,
	)
	assert getdate(row.new_expected_close_date) - getdate(row.old_expected_close_date) == datetime.timedelta(
		10
	)
	assert opp.stage_since == since

	opp.next_step = "call"  # not a tracked field: no row
	opp.save()
	assert len(rows_of(opp.name)) == 3


def test_a_caller_cannot_set_stage_since():
	opp = make_opportunity()
	since = opp.stage_since
	opp.stage_since = "2001-01-01 00:00:00"
	opp.amount = 5
	opp.save()
	assert get_datetime(opp.stage_since) == get_datetime(since)


def test_forecast_category_is_recorded_where_the_field_exists():
	fields = (*history.TRACKED,)  # as tracked_fields() returns it on a site with forecast_category
	before = frappe._dict(name="X", sales_stage="A", amount=1, probability=1, forecast_category="Pipeline")
	after = frappe._dict(before, forecast_category="Commit")
	row = history.history_row(before, after, now_datetime(), "Administrator", fields=fields)
	assert (row["old_forecast_category"], row["new_forecast_category"], row["stage_changed"]) == (
		"Pipeline",
		"Commit",
		0,
	)
	# without the field, a change of it is no change
	without = tuple(f for f in fields if f != "forecast_category")
	assert history.history_row(before, after, now_datetime(), "Administrator", fields=without) is None
	if not frappe.get_meta("Opportunity").has_field("forecast_category"):
		assert "forecast_category" not in history.tracked_fields()


def test_kanban_move_writes_a_row():
	opp = make_opportunity(amount=100)
	entered_days_ago(opp.name, 2)
	update_order_for_single_card(BOARD_NAME, opp.name, "Prospecting", "Negotiation/Review", 0, 0)
	row = rows_of(opp.name)[-1]
	assert (row.from_stage, row.to_stage, row.new_probability) == ("Prospecting", "Negotiation/Review", 80)
	assert row.days_in_previous_stage == pytest.approx(2, abs=0.01)


def test_bulk_edit_writes_a_row_per_deal(committed):
	opps = [make_opportunity(amount=10), make_opportunity(amount=20)]
	committed.extend(o.name for o in opps)
	frappe.db.commit()
	failed = submit_cancel_or_update_docs(
		"Opportunity", [o.name for o in opps], action="update", data={"sales_stage": "Value Proposition"}
	)
	assert failed == []
	for opp in opps:
		row = rows_of(opp.name)[-1]
		assert (row.from_stage, row.to_stage, row.new_probability) == ("Prospecting", "Value Proposition", 30)


def test_rest_put_writes_a_row(web_server, committed):
	opp = make_opportunity(amount=10)
	committed.append(opp.name)
	frappe.db.commit()
	call = rest_client(web_server)
	status, _body = call(f"/api/resource/Opportunity/{opp.name}", {"sales_stage": "Qualification"}, "PUT")
	assert status == 200
	frappe.db.rollback()
	row = rows_of(opp.name)[-1]
	assert (row.from_stage, row.to_stage, row.changed_by, row.via) == (
		"Prospecting",
		"Qualification",
		"Administrator",
		"Save",
	)


def test_lead_conversion_writes_the_first_row():
	from opportunity_suite.services.lead_conversion import convert_lead

	name = convert_lead(make_lead(company_name=unique("Lead Co")).name, sales_stage="Qualification")
	(row,) = rows_of(name)
	assert (row.via, row.to_stage, row.from_stage) == ("Lead Conversion", "Qualification", None)


def test_import_batch_inserts_rows_for_new_and_overwritten_deals(cleanup):
	tag = unique("Hist")
	existing = make_opportunity(opportunity_name=f"{tag} Old", amount=100, sales_stage="Prospecting")
	entered_days_ago(existing.name, 4)
	frappe.db.commit()
	cleanup["Opportunity"].append(existing.name)
	rows = [
		["Opportunity Name", "Amount", "Sales Stage", "Expected Close Date"],
		[f"{tag} Old", "700", "Proposal/Price Quote", "2030-01-31"],
		[f"{tag} New", "50", "Qualification", "2030-01-31"],
	]
	doc = new_import(cleanup, csv_bytes(rows), duplicate_policy="Overwrite", match_fields="opportunity_name")
	prepare(doc)
	run(doc)
	assert_accounted(doc)
	assert (doc.created_count, doc.updated_count) == (1, 1)
	new = frappe.db.get_value(
		"Opportunity", {"opportunity_name": f"{tag} New"}, ["name", "stage_since"], as_dict=True
	)
	cleanup["Opportunity"].append(new.name)
	(made,) = rows_of(new.name)
	assert (made.via, made.to_stage, made.new_amount, made.from_stage) == (
		"Import",
		"Qualification",
		50,
		None,
	)
	assert get_datetime(new.stage_since) == get_datetime(made.changed_on)
	# the stale radar saw the batch too: no activity planned for the new deal
	assert frappe.db.get_value("Opportunity", new.name, "is_stale") == 1
	changed = rows_of(existing.name)[-1]
	assert (changed.via, changed.from_stage, changed.to_stage) == (
		"Import",
		"Prospecting",
		"Proposal/Price Quote",
	)
	assert (changed.old_amount, changed.new_amount) == (100, 700)
	assert changed.days_in_previous_stage == pytest.approx(4, abs=0.01)
	assert getdate(frappe.db.get_value("Opportunity", existing.name, "stage_since")) == getdate(today())
	# keyed as the deals are stored (written with the rows, not updated after) and the keys recorded
	from opportunity_suite.services import stage_viewers

	stored = frappe.db.get_value("Opportunity", new.name, ["owner", "assigned_to", "_assign"])
	assert made.viewer_key == stage_viewers.key_of(*stored)
	assert stage_viewers.out_of_step([new.name, existing.name]) == 0


def test_backfill_rebuilds_the_history_from_version_rows():
	opp = make_opportunity(amount=100, sales_stage="Prospecting")
	opp.sales_stage = "Qualification"
	opp.save(ignore_version=False)
	opp.amount = 250
	opp.expected_close_date = add_days(opp.expected_close_date, 7)
	opp.save(ignore_version=False)
	opp.sales_stage = "Needs Analysis"
	opp.save(ignore_version=False)
	live = [
		(r.from_stage, r.to_stage, r.old_amount, r.new_amount, r.stage_changed) for r in rows_of(opp.name)
	]
	frappe.db.delete(HISTORY, {"opportunity": opp.name})
	frappe.db.set_value("Opportunity", opp.name, "stage_since", None, update_modified=False)
	history.backfill()
	backfilled = rows_of(opp.name)
	assert [
		(r.from_stage, r.to_stage, r.old_amount, r.new_amount, r.stage_changed) for r in backfilled
	] == live
	assert {r.via for r in backfilled} == {"Backfill"}
	last_change = backfilled[-1].changed_on
	assert get_datetime(frappe.db.get_value("Opportunity", opp.name, "stage_since")) == get_datetime(
		last_change
	)
	history.backfill()  # idempotent
	assert len(rows_of(opp.name)) == len(live)


def test_deleting_a_deal_deletes_its_history():
	opp = make_opportunity()
	frappe.delete_doc("Opportunity", opp.name)
	assert rows_of(opp.name) == []


def test_stage_facts_days_in_stage_close_pushes_and_amount_change():
	opp = make_opportunity(amount=1000, expected_close_date=add_days(today(), 10))
	opp.expected_close_date = add_days(today(), 20)  # pushed 10 days
	opp.save()
	opp.expected_close_date = add_days(today(), 15)  # pulled in: not a push
	opp.save()
	opp.expected_close_date = add_days(today(), 45)  # pushed 30 days
	opp.amount = 1250
	opp.save()
	entered_days_ago(opp.name, 6)
	facts = stage_facts(opp.name)
	assert facts["days_in_stage"] == pytest.approx(6, abs=0.1)
	assert (facts["close_date_pushes"], facts["close_date_pushed_days"]) == (2, 40)
	assert (facts["first_amount"], facts["amount_change"]) == (1000, 250)


def test_stage_facts_and_history_rows_follow_the_deal_permissions():
	seller = make_user("Sales User")
	outsider = make_user()  # no role of the app
	opp = make_opportunity(amount=5)
	frappe.set_user(seller)
	assert stage_facts(opp.name)["days_in_stage"] >= 0
	assert frappe.get_list(HISTORY, filters={"opportunity": opp.name}, pluck="name")
	frappe.set_user(outsider)
	with pytest.raises(frappe.PermissionError):
		stage_facts(opp.name)
	with pytest.raises(frappe.PermissionError):
		frappe.get_list(HISTORY, filters={"opportunity": opp.name})


def test_migrate_backfills_through_its_patch(committed):
	"""The patch migrate runs (listed in patches.txt) rebuilds a deal's rows from its Version rows."""
	from opportunity_suite.patches import stage_history_backfill

	patches = frappe.get_file_items(frappe.get_app_path("opportunity_suite", "patches.txt"))
	assert "opportunity_suite.patches.stage_history_backfill" in patches
	opp = make_opportunity(amount=100, sales_stage="Prospecting")
	committed.append(opp.name)
	opp.sales_stage = "Qualification"
	opp.save(ignore_version=False)
	frappe.db.delete(HISTORY, {"opportunity": opp.name})
	try:
		stage_history_backfill.execute()  # commits (the stale refresh's chunks), as in a migrate
		assert [(r.from_stage, r.to_stage, r.via) for r in rows_of(opp.name)] == [
			(None, "Prospecting", "Backfill"),
			("Prospecting", "Qualification", "Backfill"),
		]
	finally:
		history.delete_history([opp.name])  # and its stay out of the Time in Stage summary
		frappe.db.commit()
