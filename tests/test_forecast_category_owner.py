"""Issue 16: a deal's forecast category is overridden by its owner only. Its owner is its Assigned To
(Frappe's `owner`, its creator, when nobody is assigned), with the managers above that user in the
reporting line (User's Reports To) and Sales Managers; anyone else with write access (here: another Sales
User, every deal visible to everyone) is refused on every path — desk save, `frappe.client.set_value`,
bulk edit, REST, Opportunity Import — and nothing is saved. A stage change by anyone still moves a category
not chosen by hand. Users hold exactly one role each."""

import frappe
import pytest
from frappe.desk.doctype.bulk_update.bulk_update import submit_cancel_or_update_docs
from frappe.desk.doctype.kanban_board.kanban_board import update_order_for_single_card

from opportunity_suite.services import visibility
from opportunity_suite.services.forecast_categories import ForecastCategoryPermissionError
from opportunity_suite.services.kanban import BOARD_NAME
from tests.factories import make_opportunity, unique
from tests.http_users import Client, make_login_users, remove_login_users
from tests.import_fixtures import cleanup, csv_bytes, new_import, prepare, run  # noqa: F401 (fixture)
from tests.records_fixtures import delete_committed
from tests.test_import_organizations import failed_reasons
from tests.test_visibility import private  # noqa: F401 (fixture)

DEALS = "/api/resource/Opportunity"


@pytest.fixture(scope="module")
def people():
	"""Committed users with one role each: the deals' owner (a Sales User), who reports to a lead (a Sales
	User too), a teammate (Sales User, outside that line), a Sales Manager."""
	users = make_login_users(
		owner="Sales User", lead="Sales User", teammate="Sales User", manager="Sales Manager"
	)
	frappe.db.set_value("User", users["owner"], "reports_to", users["lead"])
	frappe.db.commit()
	visibility.clear_cache()
	try:
		yield frappe._dict(users)
	finally:
		visibility.clear_cache()
		remove_login_users(users)


def _deal(owner: str, **values):
	"""A deal assigned to `owner`, made by Administrator (so its Frappe owner is not `owner`)."""
	frappe.set_user("Administrator")
	return make_opportunity(sales_stage="Prospecting", assigned_to=owner, **values)


def _category(name: str) -> tuple:
	return tuple(
		frappe.db.get_value("Opportunity", name, ["forecast_category", "forecast_category_is_manual"])
	)


def _save_as(user: str, name: str, **values):
	frappe.set_user(user)
	doc = frappe.get_doc("Opportunity", name)
	doc.update(values)
	doc.save()
	return doc


# ---------------------------------------------------------------- in process: save, set_value, bulk edit


def test_the_assigned_sales_user_chooses_the_category_and_gives_it_up(people):
	opp = _deal(people.owner)
	_save_as(people.owner, opp.name, forecast_category="Commit")
	assert _category(opp.name) == ("Commit", 1)
	_save_as(people.owner, opp.name, forecast_category_is_manual=0)
	assert _category(opp.name) == ("Pipeline", 0)


@pytest.mark.parametrize("who", ["lead", "manager"])
def test_the_owners_manager_and_a_sales_manager_may_choose_it(people, who):
	opp = _deal(people.owner)
	_save_as(people[who], opp.name, forecast_category="Best Case")
	assert _category(opp.name) == ("Best Case", 1)


def test_a_teammate_with_write_access_is_refused_and_nothing_is_saved(people):
	opp = _deal(people.owner, amount=100)
	frappe.set_user(people.teammate)
	assert frappe.has_permission("Opportunity", "write", doc=opp)  # everyone may write every deal
	with pytest.raises(ForecastCategoryPermissionError, match="may change its forecast category"):
		_save_as(people.teammate, opp.name, forecast_category="Commit", amount=200)
	assert _category(opp.name) == ("Pipeline", 0)
	assert frappe.db.get_value("Opportunity", opp.name, "amount") == 100
	# nor may they mark the stage's category as chosen, or give up the owner's choice
	with pytest.raises(ForecastCategoryPermissionError):
		_save_as(people.teammate, opp.name, forecast_category_is_manual=1)
	_save_as(people.owner, opp.name, forecast_category="Omitted")
	with pytest.raises(ForecastCategoryPermissionError):
		_save_as(people.teammate, opp.name, forecast_category_is_manual=0)
	with pytest.raises(ForecastCategoryPermissionError):
		frappe.set_user(people.teammate)
		frappe.client.set_value("Opportunity", opp.name, "forecast_category", "Best Case")
	assert _category(opp.name) == ("Omitted", 1)
	# what they may change still saves, the owner's choice with it
	_save_as(people.teammate, opp.name, amount=300)
	assert _category(opp.name) == ("Omitted", 1)


def test_a_teammates_stage_change_still_moves_a_category_not_chosen_by_hand(people):
	follows = _deal(people.owner)
	chosen = _deal(people.owner)
	_save_as(people.owner, chosen.name, forecast_category="Omitted")
	_save_as(people.teammate, follows.name, sales_stage="Negotiation/Review")
	assert _category(follows.name) == ("Commit", 0)
	_save_as(people.teammate, chosen.name, sales_stage="Negotiation/Review")
	assert _category(chosen.name) == ("Omitted", 1)
	# a Kanban move, as the teammate
	frappe.set_user(people.teammate)
	update_order_for_single_card(BOARD_NAME, follows.name, "Negotiation/Review", "Proposal/Price Quote", 0, 0)
	update_order_for_single_card(BOARD_NAME, chosen.name, "Negotiation/Review", "Proposal/Price Quote", 0, 0)
	assert _category(follows.name) == ("Best Case", 0)
	assert _category(chosen.name) == ("Omitted", 1)
	# sending the category the stage gives anyway is no override
	_save_as(people.teammate, follows.name, sales_stage="Negotiation/Review", forecast_category="Commit")
	assert _category(follows.name) == ("Commit", 0)


def test_bulk_edit_refuses_the_teammates_override_deal_by_deal(people):
	theirs, other = _deal(people.owner), _deal(people.teammate)
	names = [theirs.name, other.name]
	frappe.db.commit()  # bulk edit commits
	try:
		frappe.set_user(people.teammate)
		failed = submit_cancel_or_update_docs(
			"Opportunity", names, action="update", data={"forecast_category": "Commit"}
		)
		frappe.db.rollback()
		assert failed == [theirs.name]
		assert _category(theirs.name) == ("Pipeline", 0)
		assert _category(other.name) == ("Commit", 1)  # their own deal
		failed = submit_cancel_or_update_docs(
			"Opportunity", names, action="update", data={"sales_stage": "Negotiation/Review"}
		)
		assert failed == []
		assert _category(theirs.name) == ("Commit", 0)
	finally:
		frappe.db.rollback()
		frappe.set_user("Administrator")
		delete_committed("Opportunity", names)
		frappe.db.commit()


def test_without_an_assignee_the_creator_owns_the_deal(people):
	frappe.set_user(people.teammate)
	opp = make_opportunity(sales_stage="Prospecting")
	frappe.db.set_value("Opportunity", opp.name, "assigned_to", None)  # as an old row written by SQL
	with pytest.raises(ForecastCategoryPermissionError):
		_save_as(people.owner, opp.name, forecast_category="Commit")
	_save_as(people.teammate, opp.name, forecast_category="Commit")
	assert _category(opp.name) == ("Commit", 1)


def test_a_new_deal_takes_the_category_its_creator_gives_whoever_it_is_for(people):
	frappe.set_user(people.teammate)
	opp = make_opportunity(sales_stage="Prospecting", assigned_to=people.owner, forecast_category="Commit")
	assert (opp.forecast_category, opp.forecast_category_is_manual) == ("Commit", 1)
	# once made, it is the assignee's choice
	with pytest.raises(ForecastCategoryPermissionError):
		_save_as(people.teammate, opp.name, forecast_category="Pipeline")


def test_a_write_share_under_private_visibility_does_not_give_the_choice(people, private):  # noqa: F811
	opp = _deal(people.owner)
	frappe.share.add("Opportunity", opp.name, people.teammate, read=1, write=1, notify=0)
	frappe.set_user(people.teammate)
	assert frappe.has_permission("Opportunity", "write", doc=frappe.get_doc("Opportunity", opp.name))
	with pytest.raises(ForecastCategoryPermissionError):
		_save_as(people.teammate, opp.name, forecast_category="Commit")
	_save_as(people.teammate, opp.name, sales_stage="Negotiation/Review")
	assert _category(opp.name) == ("Commit", 0)
	_save_as(people.lead, opp.name, forecast_category="Best Case")  # the owner's lead sees it, and may
	assert _category(opp.name) == ("Best Case", 1)


def test_an_alert_rules_update_field_action_on_a_teammates_save_is_not_refused(people):
	from tests.alerts_fixtures import make_rule

	make_rule(
		conditions=[("amount", "Greater Than", "10000")],
		actions=[
			{"action_type": "Update Field", "update_field": "forecast_category", "update_value": "Commit"}
		],
	)
	opp = _deal(people.owner)
	_save_as(people.teammate, opp.name, amount=15000)  # the manager's rule, not the teammate, chooses
	assert _category(opp.name) == ("Commit", 1)


# ---------------------------------------------------------------- Opportunity Import (updates)


def test_an_import_by_a_teammate_fails_the_row_that_overrides_and_updates_the_others(people, cleanup):  # noqa: F811
	tag = unique("CatOwner")
	frappe.set_user("Administrator")
	override = make_opportunity(opportunity_name=f"{tag} override", assigned_to=people.owner)
	moved = make_opportunity(opportunity_name=f"{tag} moved", assigned_to=people.owner)
	cleanup["Opportunity"] += [override.name, moved.name]
	frappe.db.commit()
	rows = [
		["Opportunity Name", "Sales Stage", "Forecast Category"],
		[f"{tag} override", "", "Commit"],
		[f"{tag} moved", "Negotiation/Review", ""],
	]
	frappe.set_user(people.teammate)
	doc = new_import(cleanup, csv_bytes(rows), duplicate_policy="Overwrite", match_fields="opportunity_name")
	prepare(doc, **{"Forecast Category": "forecast_category"})
	run(doc)
	assert (doc.status, doc.updated_count, doc.failed_count) == ("Completed with Errors", 1, 1), doc.error
	assert "may change its forecast category" in failed_reasons(doc)[f"{tag} override"]
	assert _category(override.name) == ("Pipeline", 0)
	assert _category(moved.name) == ("Commit", 0)

	# the same row imported by the owner is an update
	frappe.set_user(people.owner)
	mine = new_import(
		cleanup, csv_bytes(rows[:2]), duplicate_policy="Overwrite", match_fields="opportunity_name"
	)
	prepare(mine, **{"Forecast Category": "forecast_category"})
	run(mine)
	assert (mine.status, mine.updated_count, mine.failed_count) == ("Completed", 1, 0), mine.error
	assert _category(override.name) == ("Commit", 1)


# ---------------------------------------------------------------- REST, through the web server


@pytest.fixture
def committed_deal(people):
	frappe.db.rollback()
	opp = _deal(people.owner)
	frappe.db.commit()
	yield opp
	frappe.db.rollback()
	frappe.set_user("Administrator")
	delete_committed("Opportunity", [opp.name])
	frappe.db.commit()


def _rest_category(name: str) -> tuple:
	frappe.db.rollback()
	return _category(name)


@pytest.mark.slow
def test_rest_refuses_the_teammate_and_takes_the_owners_choice(web_server, people, committed_deal):
	name = committed_deal.name
	teammate = Client(web_server, people.teammate)
	status, body = teammate.call(f"{DEALS}/{name}", {"forecast_category": "Commit"}, "PUT")
	assert status == 403, body
	assert "may change its forecast category" in str(body)
	status, body = teammate.call(
		"/api/method/frappe.client.set_value",
		{"doctype": "Opportunity", "name": name, "fieldname": "forecast_category", "value": "Commit"},
	)
	assert status == 403, body
	assert _rest_category(name) == ("Pipeline", 0)
	# the teammate's stage change moves the category
	status, body = teammate.call(f"{DEALS}/{name}", {"sales_stage": "Negotiation/Review"}, "PUT")
	assert status == 200, body
	assert _rest_category(name) == ("Commit", 0)
	owner = Client(web_server, people.owner)
	status, body = owner.call(f"{DEALS}/{name}", {"forecast_category": "Best Case"}, "PUT")
	assert status == 200, body
	assert _rest_category(name) == ("Best Case", 1)
	manager = Client(web_server, people.manager)
	status, body = manager.call(f"{DEALS}/{name}", {"forecast_category": "Omitted"}, "PUT")
	assert status == 200, body
	assert _rest_category(name) == ("Omitted", 1)
