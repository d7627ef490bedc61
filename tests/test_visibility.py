"""Record visibility (services/visibility.py) in one process: the reporting line, shares, a takeover by
write, quotes of a private deal, alert recipients and the import's duplicate matching. The HTTP paths are
in test_permission_matrix.py."""

import frappe
import pytest

from opportunity_suite.services import visibility
from opportunity_suite.services.alerts import recipients
from tests.conversion_fixtures import as_user, make_quote
from tests.factories import make_opportunity, make_user
from tests.import_fixtures import cleanup, csv_bytes, new_import, prepare, run  # noqa: F401
from tests.test_conversion import clear_permission_cache  # noqa: F401


@pytest.fixture
def private():
	settings = frappe.get_single("Opportunity Settings")
	settings.visibility = visibility.PRIVATE
	settings.save()
	yield
	frappe.db.rollback()
	if frappe.db.get_single_value("Opportunity Settings", "visibility", cache=False) == visibility.PRIVATE:
		frappe.db.set_single_value(
			"Opportunity Settings", "visibility", visibility.EVERYONE
		)  # a test committed
		frappe.db.commit()
	visibility.clear_cache()


@pytest.fixture
def team():
	"""owner → lead → manager (each reports to the next), and an outsider."""
	users = frappe._dict({key: make_user("Sales User") for key in ("owner", "lead", "manager", "other")})
	frappe.db.set_value("User", users.owner, "reports_to", users.lead)
	frappe.db.set_value("User", users.lead, "reports_to", users.manager)
	visibility.clear_cache()
	return users


def readers(name: str, users) -> set[str]:
	return {
		key
		for key, user in users.items()
		if frappe.has_permission("Opportunity", "read", doc=name, user=user)
	}


def listed(name: str, user: str) -> bool:
	return bool(as_user(user, frappe.get_list, "Opportunity", filters={"name": name}, pluck="name"))


def test_everyone_sees_every_opportunity_by_default(team):
	opportunity = as_user(team.owner, make_opportunity)
	assert readers(opportunity.name, team) == {"owner", "lead", "manager", "other"}
	assert listed(opportunity.name, team.other)


def test_private_opportunity_is_seen_by_its_owner_and_the_managers_above_them(private, team):
	opportunity = as_user(team.owner, make_opportunity)
	assert readers(opportunity.name, team) == {"owner", "lead", "manager"}
	assert listed(opportunity.name, team.manager) and not listed(opportunity.name, team.other)
	assert frappe.has_permission("Opportunity", "read", doc=opportunity.name, user=make_user("Sales Manager"))


def test_assignee_by_field_or_by_assign_to_sees_it(private, team):
	by_field = as_user(team.manager, make_opportunity, assigned_to=team.other)
	assert listed(by_field.name, team.other)
	by_assign = as_user(team.manager, make_opportunity)
	frappe.db.set_value("Opportunity", by_assign.name, "_assign", frappe.as_json([team.other]))
	assert "other" in readers(by_assign.name, team) and listed(by_assign.name, team.other)


def test_a_share_opens_a_private_opportunity(private, team):
	opportunity = as_user(team.owner, make_opportunity)
	frappe.share.add_docshare(
		"Opportunity", opportunity.name, team.other, read=1, flags={"ignore_share_permission": 1}
	)
	assert "other" in readers(opportunity.name, team) and listed(opportunity.name, team.other)


def test_a_read_share_lets_its_user_read_a_private_deal_not_write_or_delete_it(private, team):
	opportunity = as_user(team.owner, make_opportunity)
	frappe.share.add_docshare(
		"Opportunity", opportunity.name, team.other, read=1, flags={"ignore_share_permission": 1}
	)

	def may(ptype: str) -> bool:
		return bool(frappe.has_permission("Opportunity", ptype, doc=opportunity.name, user=team.other))

	assert may("read") and may("print")
	assert not may("write") and not may("delete") and not may("share")
	with pytest.raises(frappe.PermissionError):
		as_user(team.other, lambda: frappe.get_doc("Opportunity", opportunity.name).save())
	# a write share lets them edit it; the deal's owner keeps every right their role gives
	frappe.share.add_docshare(
		"Opportunity", opportunity.name, team.other, read=1, write=1, flags={"ignore_share_permission": 1}
	)
	assert may("write") and not may("delete")
	assert frappe.has_permission("Opportunity", "write", doc=opportunity.name, user=team.owner)


def test_a_reporting_cycle_is_refused_and_harmless_if_stored(team):
	user = frappe.get_doc("User", team.manager)
	user.reports_to = team.owner  # owner → lead → manager → owner
	with pytest.raises(visibility.ReportingCycleError):
		user.save(ignore_permissions=True)
	frappe.db.set_value("User", team.manager, "reports_to", team.owner)  # stored anyway (by SQL)
	visibility.clear_cache()
	assert set(visibility.team_of(team.owner)) == {team.owner, team.lead, team.manager}


def test_nobody_takes_a_deal_they_cannot_see_by_writing_themselves_into_it(private, team):
	opportunity = as_user(team.owner, make_opportunity, assigned_to=team.owner)
	frappe.set_user(team.other)
	doc = frappe.get_doc("Opportunity", opportunity.name)
	doc.assigned_to = team.other
	with pytest.raises(frappe.PermissionError):
		doc.save()
	frappe.set_user("Administrator")
	assert frappe.db.get_value("Opportunity", opportunity.name, "assigned_to") == team.owner


def test_quotes_follow_their_opportunity(private, team):
	opportunity = as_user(team.owner, make_opportunity)
	quote = make_quote(opportunity.name)
	assert as_user(team.manager, frappe.get_list, "Quote", filters={"name": quote.name}, pluck="name")
	assert not as_user(team.other, frappe.get_list, "Quote", filters={"name": quote.name}, pluck="name")
	assert not frappe.has_permission("Quote", "read", doc=quote.name, user=team.other)
	with pytest.raises(frappe.PermissionError):  # nor a new quote on someone else's private deal
		as_user(team.other, make_quote, opportunity.name)


def test_alert_recipients_are_only_those_who_see_the_deal(private, team):
	opportunity = as_user(team.owner, make_opportunity)
	row = frappe._dict(recipient_users=",".join(team.values()))
	assert set(recipients.resolve(row, opportunity).users) == {team.owner, team.lead, team.manager}


def test_an_import_never_overwrites_a_deal_the_importer_cannot_see(private, team, cleanup):  # noqa: F811
	opportunity = as_user(team.owner, make_opportunity, next_step="as it was")
	cleanup["Opportunity"].append(opportunity.name)
	cleanup["User"].extend(team.values())
	frappe.db.commit()
	frappe.set_user(team.other)  # as if Sales Users were given import rights: matching is the runner's
	content = csv_bytes(
		[
			["Opportunity Name", "Next Step", "Sales Stage", "Expected Close Date"],
			[opportunity.opportunity_name, "overwritten", "Prospecting", "2031-01-01"],
		]
	)
	doc = new_import(cleanup, content, duplicate_policy="Overwrite", match_fields="opportunity_name")
	prepare(doc)
	run(doc)
	frappe.set_user("Administrator")
	assert frappe.db.get_value("Opportunity", opportunity.name, "next_step") == "as it was"
	assert (doc.updated_count, doc.created_count) == (0, 1)  # a record of their own instead


def _failed_reasons(doc) -> dict[str, str]:
	"""The first cell (Opportunity Name) of each failed row of the run → its reason."""
	out = {}
	for batch in frappe.get_all("Opportunity Import Batch", {"import_run": doc.name}, ["failed_rows"]):
		for _row_no, cells, reason in frappe.parse_json(batch.failed_rows or "[]"):
			out[cells[0]] = reason
	return out


def _overwrite_next_steps(cleanup, user: str, deals: list, next_step: str):  # noqa: F811
	"""Opportunity Import (Overwrite on the name) run as `user`, one row per deal setting its Next Step."""
	frappe.set_user(user)
	try:
		content = csv_bytes(
			[
				["Opportunity Name", "Next Step", "Sales Stage", "Expected Close Date"],
				*[[deal.opportunity_name, next_step, "Prospecting", "2031-01-01"] for deal in deals],
			]
		)
		doc = new_import(cleanup, content, duplicate_policy="Overwrite", match_fields="opportunity_name")
		prepare(doc)
		return run(doc)
	finally:
		frappe.set_user("Administrator")


def test_an_import_updates_only_the_deals_its_user_may_write(private, team, cleanup):  # noqa: F811
	"""A deal shared read-only with the importer is matched (they read it) but its row fails, saying why,
	and the deal is unchanged; their own deal's row updates; a write share, or a Sales Manager, updates it.
	(The read-only match never makes a duplicate deal instead: the row fails with the reason.)"""
	shared = as_user(team.owner, make_opportunity, next_step="as it was")
	own = as_user(team.other, make_opportunity, next_step="mine")
	cleanup["Opportunity"] += [shared.name, own.name]
	frappe.share.add_docshare(
		"Opportunity", shared.name, team.other, read=1, flags={"ignore_share_permission": 1}
	)
	manager = make_user("Sales Manager")
	cleanup["User"] += [*team.values(), manager]
	frappe.db.commit()

	doc = _overwrite_next_steps(cleanup, team.other, [shared, own], "read-only share")
	assert (doc.updated_count, doc.failed_count, doc.created_count) == (1, 1, 0), _failed_reasons(doc)
	assert _failed_reasons(doc) == {shared.opportunity_name: f"You may not change opportunity {shared.name}."}
	assert frappe.db.get_value("Opportunity", shared.name, "next_step") == "as it was"
	assert frappe.db.get_value("Opportunity", own.name, "next_step") == "read-only share"

	frappe.share.add_docshare(
		"Opportunity", shared.name, team.other, read=1, write=1, flags={"ignore_share_permission": 1}
	)
	frappe.db.commit()
	doc = _overwrite_next_steps(cleanup, team.other, [shared], "write share")
	assert (doc.updated_count, doc.failed_count) == (1, 0), doc.error
	assert frappe.db.get_value("Opportunity", shared.name, "next_step") == "write share"

	doc = _overwrite_next_steps(cleanup, manager, [shared, own], "manager")
	assert (doc.updated_count, doc.failed_count) == (2, 0), doc.error
	assert frappe.db.get_value("Opportunity", shared.name, "next_step") == "manager"
	assert frappe.db.get_value("Opportunity", own.name, "next_step") == "manager"
	frappe.db.delete("DocShare", {"share_doctype": "Opportunity", "share_name": shared.name})
	frappe.db.commit()


def test_an_importer_whose_role_writes_only_their_own_deals_may_update_only_those(clear_permission_cache):  # noqa: F811
	"""The import's write check (BatchWriter.may_write) for a role that reads every deal but writes only
	its own (Frappe's "If Owner" write): each deal is asked of Frappe, not answered once for the batch; a
	Sales User's role writes all they read (one look)."""
	from frappe.permissions import add_permission

	from opportunity_suite.services.importing.batch import BatchWriter

	role = frappe.get_doc(
		{"doctype": "Role", "role_name": f"OS Own Writer {frappe.generate_hash(length=6)}"}
	).insert()
	add_permission("Opportunity", role.name)  # read (copies the DocType's own rules first)
	frappe.db.set_value(
		"Custom DocPerm", {"parent": "Opportunity", "role": role.name, "if_owner": 0}, "create", 1
	)
	frappe.get_doc(
		{
			"doctype": "Custom DocPerm",
			"parent": "Opportunity",
			"parenttype": "DocType",
			"parentfield": "permissions",
			"role": role.name,
			"permlevel": 0,
			"if_owner": 1,
			"read": 1,
			"write": 1,
		}
	).insert()
	frappe.clear_cache(doctype="Opportunity")
	writer = make_user(role.name)
	own = as_user(writer, make_opportunity)
	theirs = make_opportunity()

	def may_write(user: str) -> dict:
		batch = BatchWriter(frappe._dict(user=user), [])
		return {name: batch.may_write(name) for name in (own.name, theirs.name)}

	assert frappe.has_permission("Opportunity", "read", doc=theirs.name, user=writer)
	assert may_write(writer) == {own.name: True, theirs.name: False}
	assert may_write(make_user("Sales User")) == {own.name: True, theirs.name: True}
