# ruff: noqa: F811 (the visibility fixtures are imported, then used as arguments)
"""Bulk edit into a Lost stage (api/bulk.py mark_as_lost, services/mark_lost.py): the stage and the answer
set on every selected deal, each saved (validation, permissions, a stage-history row), a deal the user may
not change or that validation refuses reported row by row in the user's language, the others saved."""

import frappe
import pytest

from opportunity_suite.api.bulk import mark_as_lost
from opportunity_suite.services.mark_lost import MAX_RECORDS, NotALostStageError, TooManyRecordsError
from tests.conversion_fixtures import as_user
from tests.factories import make_opportunity, make_picklist_value, make_user
from tests.test_visibility import private, team  # noqa: F401


def _stored(name: str) -> frappe._dict:
	return frappe.db.get_value(
		"Opportunity",
		name,
		["sales_stage", "status", "loss_reason", "lost_reason", "probability", "closed_on"],
		as_dict=True,
	)


def _last_history(name: str) -> tuple:
	row = frappe.get_all(
		"Opportunity Stage History",
		filters={"opportunity": name},
		fields=["from_stage", "to_stage", "changed_by", "via"],
		order_by="changed_on desc, creation desc",
		limit=1,
	)[0]
	return (row.from_stage, row.to_stage, row.changed_by, row.via)


def test_a_sales_user_marks_their_deals_lost_each_saved_with_a_history_row():
	seller = make_user("Sales User")
	deals = [
		as_user(seller, make_opportunity, amount=100, sales_stage=s) for s in ("Prospecting", "Qualification")
	]
	result = as_user(
		seller,
		mark_as_lost,
		frappe.as_json([d.name for d in deals]),
		"Closed Lost",
		"Price",
		"Cheaper elsewhere",
	)
	assert result == {"saved": [d.name for d in deals], "failed": []}
	for deal, before in zip(deals, ("Prospecting", "Qualification"), strict=True):
		stored = _stored(deal.name)
		assert (stored.sales_stage, stored.status, stored.loss_reason, stored.lost_reason) == (
			"Closed Lost",
			"Lost",
			"Price",
			"Cheaper elsewhere",
		)
		assert stored.probability == 0 and stored.closed_on  # the save's derivations ran
		assert _last_history(deal.name) == (before, "Closed Lost", seller, "Save")


def test_a_deal_the_user_may_not_change_or_that_validation_refuses_is_reported_the_others_saved(
	private, team
):
	"""Private visibility: the outsider may not change the owner's deal. A deal without its required
	expected close date (as a raw writer left it) is refused by its validation: reported, left as it was."""
	mine = as_user(team.other, make_opportunity, amount=10)
	theirs = as_user(team.owner, make_opportunity, amount=20)
	broken = as_user(team.other, make_opportunity, amount=30)
	frappe.db.set_value("Opportunity", broken.name, "expected_close_date", None)
	messages = list(frappe.local.message_log)
	result = as_user(
		team.other, mark_as_lost, [mine.name, theirs.name, broken.name, "OPP-NOPE"], "Closed Lost", "Timing"
	)
	assert result["saved"] == [mine.name]
	reasons = {f["name"]: f["reason"] for f in result["failed"]}
	assert reasons.keys() == {theirs.name, broken.name, "OPP-NOPE"}
	assert reasons[theirs.name] == "You may not change it"
	assert reasons["OPP-NOPE"] == "Not found"
	assert "Expected Close Date" in reasons[broken.name]
	# the refusals are the rows' reasons, not messages of the answer
	assert frappe.local.message_log == messages
	assert _stored(mine.name).loss_reason == "Timing"
	for name in (theirs.name, broken.name):
		assert (_stored(name).sales_stage, _stored(name).loss_reason) == ("Prospecting", None)
		assert _last_history(name)[1] == "Prospecting"  # no row for the change that wasn't saved


def test_the_reasons_are_in_the_users_language(private, team):
	theirs = as_user(team.owner, make_opportunity, amount=20)
	before = frappe.local.lang
	frappe.local.lang = "zh"
	frappe.translate.clear_cache()
	try:
		result = as_user(team.other, mark_as_lost, [theirs.name, "OPP-NOPE"], "Closed Lost", "Timing")
		expected = [frappe._("You may not change it"), frappe._("Not found")]
	finally:
		frappe.local.lang = before
		frappe.translate.clear_cache()
	assert [f["reason"] for f in result["failed"]] == expected
	assert expected[0] != "You may not change it" and expected[1] != "Not found"


def test_a_user_who_may_change_no_opportunity_is_refused():
	reader = make_user("Blogger")
	deal = make_opportunity(amount=10)
	frappe.share.add("Opportunity", deal.name, reader, read=1)
	with pytest.raises(frappe.PermissionError):
		as_user(reader, mark_as_lost, [deal.name], "Closed Lost", "Price")
	assert _stored(deal.name).sales_stage == "Prospecting"


def test_a_stage_that_isnt_lost_a_missing_or_disabled_reason_and_too_many_deals_are_refused():
	deal = make_opportunity(amount=10)
	with pytest.raises(NotALostStageError):
		mark_as_lost([deal.name], "Qualification", "Price")
	with pytest.raises(frappe.MandatoryError):
		mark_as_lost([deal.name], "Closed Lost", "")
	retired = make_picklist_value("Lost Reason", "Reason", disabled=1).name
	with pytest.raises(frappe.MandatoryError):
		mark_as_lost([deal.name], "Closed Lost", retired)
	with pytest.raises(TooManyRecordsError):
		mark_as_lost([f"OPP-{i}" for i in range(MAX_RECORDS + 1)], "Closed Lost", "Price")
	assert _stored(deal.name).sales_stage == "Prospecting"


def test_the_method_is_post_only():
	from frappe import is_whitelisted

	is_whitelisted(mark_as_lost)
	assert frappe.allowed_http_methods_for_whitelisted_func[mark_as_lost] == ["POST"]


def test_names_that_are_not_a_list_of_names_get_a_translated_error():
	"""The bulk actions' `names` (a list, or its JSON text): anything else is refused in the user's language,
	nothing changed."""
	from opportunity_suite.api.bulk import add_comment

	seller = make_user("Sales User")  # (one role: allowed to edit in bulk, so the names are what is refused)
	deal = as_user(seller, make_opportunity, amount=10)
	before = frappe.local.lang
	frappe.local.lang = "zh"
	frappe.translate.clear_cache()
	try:
		expected = frappe._("Pick the opportunities as a list of their names.")
		# (a list of other things Frappe's type check refuses before the method runs)
		for names in ("not json", f'{{"name": "{deal.name}"}}', "[1, 2]", deal.name):
			frappe.clear_messages()
			with pytest.raises(frappe.ValidationError, match=expected):
				as_user(seller, mark_as_lost, names, "Closed Lost", "Price")
			with pytest.raises(frappe.ValidationError, match=expected):
				as_user(seller, add_comment, names, "hello")
	finally:
		frappe.local.lang = before
		frappe.translate.clear_cache()
	assert expected != "Pick the opportunities as a list of their names."
	assert _stored(deal.name).sales_stage == "Prospecting"
