import os

import frappe
import pytest
from frappe.permissions import add_permission, update_permission_property

from opportunity_suite.api.conversion import can_convert
from opportunity_suite.api.conversion import convert_to_project as api_convert_to_project
from opportunity_suite.opportunity_suite.doctype.project.project_dashboard import get_data
from opportunity_suite.services.conversion import (
	AlreadyConvertedError,
	ConversionError,
	NotWonError,
	convert_to_project,
)
from tests.conversion_fixtures import (
	add_comment,
	as_user,
	attach_file,
	make_event,
	make_quote,
	make_sales_order,
	make_todo,
)
from tests.factories import make_opportunity, make_user, set_forecast_settings


def participants(event: str) -> list[tuple[str, str]]:
	return [
		(row.reference_doctype, row.reference_docname)
		for row in frappe.get_doc("Event", event).event_participants
	]


def records_of(doctype: str, reference: dict, fields: list[str]) -> list[tuple]:
	rows = frappe.get_all(doctype, filters=reference, fields=fields, order_by="creation asc, name asc")
	return sorted(tuple(row[field] for field in fields) for row in rows)


TODO_FIELDS = ["description", "status", "priority", "allocated_to", "assigned_by", "owner", "creation"]
FILE_FIELDS = ["file_name", "file_url", "is_private", "content_hash", "owner", "creation"]
COMMENT_FIELDS = ["comment_type", "content", "comment_email", "comment_by", "owner", "creation"]


@pytest.fixture
def rich_opportunity():
	"""An opportunity with quotes, sales orders, events, to-dos, files and comments from several users,
	some private to a user who is not the one converting; plus records of another opportunity."""
	colleague = make_user("Sales User")
	converter = make_user("Sales User")
	opp = make_opportunity(amount=5000)
	other = make_opportunity()
	records = frappe._dict(opp=opp, other=other, colleague=colleague, converter=converter)
	records.quotes = [make_quote(opp.name).name, as_user(colleague, make_quote, opp.name).name]
	records.orders = [make_sales_order(opp.name).name, as_user(colleague, make_sales_order, opp.name).name]
	records.other_quote = make_quote(other.name).name
	records.events = [
		make_event(opp.name, event_type="Public").name,
		as_user(colleague, make_event, opp.name, event_type="Private").name,
	]
	records.other_event = make_event(other.name, event_type="Public").name
	records.todos = [
		as_user(colleague, make_todo, opp.name, allocated_to=colleague).name,  # the colleague's own, private
		make_todo(opp.name, allocated_to=converter).name,
		make_todo(opp.name, allocated_to=colleague, status="Closed").name,
	]
	make_todo(other.name, allocated_to=colleague)
	records.files = [attach_file(opp.name, is_private=0).name, as_user(colleague, attach_file, opp.name).name]
	records.comments = [
		as_user(colleague, add_comment, opp.name, "First call went well", days_ago=30).name,
		add_comment(opp.name, "Budget approved", days_ago=3).name,
		as_user(converter, add_comment, opp.name, "Kick-off booked").name,
	]
	add_comment(opp.name, "a like is not a comment", comment_type="Info")
	add_comment(other.name, "belongs elsewhere")
	return records


def test_conversion_carries_every_record_exactly(rich_opportunity):
	r = rich_opportunity
	on_opp = {"reference_type": "Opportunity", "reference_name": r.opp.name}
	todos_before = records_of("ToDo", on_opp, TODO_FIELDS)
	files_on_opp = {"attached_to_doctype": "Opportunity", "attached_to_name": r.opp.name}
	files_before = records_of("File", files_on_opp, FILE_FIELDS)
	comments_on_opp = {
		"reference_doctype": "Opportunity",
		"reference_name": r.opp.name,
		"comment_type": "Comment",
	}
	comments_before = records_of("Comment", comments_on_opp, COMMENT_FIELDS)
	# the three to-dos made here, and the assignment to-do of `assigned_to` (Assign To follows it)
	assert len(todos_before) == 4 and len(files_before) == 2 and len(comments_before) == 3

	# to-dos other tests left on a project name the series hands out again (a rolled-back test's series)
	left_before = frappe.get_all("ToDo", filters={"reference_type": "Project"}, pluck="name") or [""]
	frappe.set_user(r.converter)
	# the converting user can't see the colleague's private event and to-do...
	assert r.events[1] not in frappe.get_list("Event", pluck="name")
	assert r.todos[0] not in frappe.get_list("ToDo", pluck="name")
	project = api_convert_to_project(r.opp.name)
	frappe.set_user("Administrator")

	# ...but they are linked all the same
	for doctype, names in (("Quote", r.quotes), ("Sales Order", r.orders)):
		assert {frappe.db.get_value(doctype, name, "project") for name in names} == {project}
	assert not frappe.db.get_value("Quote", r.other_quote, "project")
	for event in r.events:
		assert participants(event) == [("Opportunity", r.opp.name), ("Project", project)]
	assert participants(r.other_event) == [("Opportunity", r.other.name)]

	on_project = {"reference_type": "Project", "reference_name": project}
	carried = {**on_project, "name": ("not in", left_before)}
	assert records_of("ToDo", carried, TODO_FIELDS) == todos_before
	assert records_of("ToDo", on_opp, TODO_FIELDS) == todos_before  # the opportunity keeps its own
	files_on_project = {"attached_to_doctype": "Project", "attached_to_name": project}
	assert records_of("File", files_on_project, FILE_FIELDS) == files_before
	assert records_of("File", files_on_opp, FILE_FIELDS) == files_before
	for name in r.files:  # one stored file, two rows
		original = frappe.get_doc("File", name)
		copy = frappe.get_doc("File", {"attached_to_name": project, "file_name": original.file_name})
		assert copy.name != original.name and copy.get_full_path() == original.get_full_path()
		assert os.path.exists(copy.get_full_path())
	comments_on_project = {
		"reference_doctype": "Project",
		"reference_name": project,
		"comment_type": "Comment",
	}
	assert records_of("Comment", comments_on_project, COMMENT_FIELDS) == comments_before
	assert records_of("Comment", comments_on_opp, COMMENT_FIELDS) == comments_before
	assert "Kick-off booked" in (frappe.db.get_value("Project", project, "_comments") or "")

	opp = frappe.get_doc("Opportunity", r.opp.name)
	assert opp.project == project and opp.converted_on
	assert frappe.db.get_value("Project", project, ["opportunity", "owner"]) == (r.opp.name, r.converter)
	# the colleague sees their private to-do and event on the project too
	frappe.set_user(r.colleague)
	visible = [r.todos[0], r.todos[2]]
	assert sorted(frappe.get_list("ToDo", filters=on_project, pluck="description")) == sorted(
		frappe.db.get_value("ToDo", name, "description") for name in visible
	)
	assert r.events[1] in frappe.get_list(
		"Event", filters=[["Event Participants", "reference_docname", "=", project]], pluck="name"
	)


def test_project_links_back_to_its_opportunity():
	opp = make_opportunity()
	project = convert_to_project(opp.name)
	assert frappe.db.get_value("Project", project, "opportunity") == opp.name
	assert {"label": "Converted From", "items": ["Opportunity"]} in get_data()["transactions"]
	assert get_data()["fieldname"] == "project"  # Opportunity.project points at the project
	assert frappe.get_all("Opportunity", filters={"project": project}, pluck="name") == [opp.name]


def project_side() -> dict[str, int]:
	"""How many records anywhere point at a project (a failed conversion must not change any count)."""
	return {
		"Project": frappe.db.count("Project"),
		"ToDo": frappe.db.count("ToDo", {"reference_type": "Project"}),
		"Comment": frappe.db.count("Comment", {"reference_doctype": "Project"}),
		"File": frappe.db.count("File", {"attached_to_doctype": "Project"}),
		"Event Participants": frappe.db.count("Event Participants", {"reference_doctype": "Project"}),
		"Quote": frappe.db.count("Quote", {"project": ("is", "set")}),
		"Sales Order": frappe.db.count("Sales Order", {"project": ("is", "set")}),
	}


def assert_nothing_converted(r, before: dict[str, int]):
	assert project_side() == before
	assert not frappe.db.get_value("Project", {"opportunity": r.opp.name})
	for event in r.events:
		assert participants(event) == [("Opportunity", r.opp.name)]
	assert frappe.db.get_value("Opportunity", r.opp.name, ["project", "converted_on"]) == (None, None)
	# the outer transaction (the test's own records) is intact
	assert frappe.db.count("Quote", {"opportunity": r.opp.name}) == len(r.quotes)
	assert frappe.db.count("ToDo", {"name": ("in", r.todos), "reference_name": r.opp.name}) == len(r.todos)


def test_a_failure_part_way_rolls_everything_back_and_keeps_the_outer_transaction(rich_opportunity):
	r = rich_opportunity
	# the last file's stored copy is gone: copying its File row fails after the project was inserted and
	# the quotes, events and to-dos were already linked
	broken = frappe.get_doc("File", r.files[1])
	os.remove(broken.get_full_path())
	before = project_side()
	with pytest.raises(Exception) as error:
		convert_to_project(r.opp.name)
	assert "No such file" in str(error.value) or "does not exist" in str(error.value)
	assert_nothing_converted(r, before)


def test_a_failure_at_the_last_step_rolls_everything_back(rich_opportunity):
	r = rich_opportunity
	# a Lost opportunity whose lost reason was wiped behind the form's back: saving it, the conversion's
	# last step, fails after every record was linked and copied
	frappe.db.set_value(
		"Opportunity", r.opp.name, {"sales_stage": "Closed Lost", "status": "Lost", "lost_reason": None}
	)
	before = project_side()
	with pytest.raises(frappe.MandatoryError, match="Lost Reason"):
		convert_to_project(r.opp.name)
	assert_nothing_converted(r, before)


def test_a_project_validation_error_caused_by_data_rolls_back(rich_opportunity):
	r = rich_opportunity
	# the primary contact was deleted behind the form's back: the project's Contact link is invalid
	frappe.db.set_value("Opportunity", r.opp.name, "contact", "No Such Contact")
	before = project_side()
	with pytest.raises(frappe.LinkValidationError):
		convert_to_project(r.opp.name)
	assert_nothing_converted(r, before)


def test_converting_twice_gives_one_project():
	opp = make_opportunity()
	project = convert_to_project(opp.name)
	with pytest.raises(AlreadyConvertedError, match=f"already converted to {project}"):
		convert_to_project(opp.name)
	assert frappe.get_all("Project", filters={"opportunity": opp.name}, pluck="name") == [project]


def test_a_project_made_by_hand_for_the_opportunity_counts_as_converted():
	"""The unique Project.opportunity is the last line of defence: its duplicate-entry error becomes the same
	answer, and nothing else was changed."""
	opp = make_opportunity()
	quote = make_quote(opp.name)
	by_hand = frappe.get_doc(
		{"doctype": "Project", "project_name": "By hand", "opportunity": opp.name}
	).insert()
	with pytest.raises(AlreadyConvertedError, match=f"already converted to {by_hand.name}"):
		convert_to_project(opp.name)
	assert not frappe.db.get_value("Quote", quote.name, "project")
	assert frappe.get_all("Project", filters={"opportunity": opp.name}, pluck="name") == [by_hand.name]
	assert can_convert(opp.name)["project"] == by_hand.name


def test_the_conversion_fields_are_not_set_by_hand():
	opp = make_opportunity()
	other_project = frappe.get_doc({"doctype": "Project", "project_name": "Elsewhere"}).insert()
	opp.project = other_project.name
	with pytest.raises(ConversionError, match="set by Convert to Project only"):
		opp.save()
	with pytest.raises(ConversionError, match="set by Convert to Project only"):
		make_opportunity(converted_on=frappe.utils.now_datetime())
	project = convert_to_project(opp.name)
	converted = frappe.get_doc("Opportunity", opp.name)
	converted.next_step = "Hand over"
	converted.save()  # other edits of a converted opportunity are fine
	converted.project = None
	with pytest.raises(ConversionError):
		converted.save()
	assert frappe.db.get_value("Opportunity", opp.name, "project") == project


def test_won_only_setting_restricts_conversion():
	opp = make_opportunity()
	assert can_convert(opp.name)["can_convert"]
	set_forecast_settings(convert_only_won=1)
	state = can_convert(opp.name)
	assert not state["can_convert"] and "Won" in state["reason"]
	with pytest.raises(NotWonError, match="Prospecting"):
		convert_to_project(opp.name)
	opp.reload()
	opp.sales_stage = "Closed Won"
	opp.save()
	assert convert_to_project(opp.name)


def test_can_convert_tells_the_form_what_to_show():
	opp = make_opportunity()
	assert can_convert(opp.name) == {
		"project": None,
		"converted_on": None,
		"can_convert": True,
		"reason": None,
	}
	project = convert_to_project(opp.name)
	state = can_convert(opp.name)
	assert state["project"] == project and state["converted_on"] and not state["can_convert"]


# ---------------------------------------------------------------- rights


def test_a_sales_user_may_convert_over_the_api():
	frappe.set_user(make_user("Sales User"))
	opp = make_opportunity()
	make_quote(opp.name)
	project = api_convert_to_project(opp.name)
	assert frappe.db.get_value("Opportunity", opp.name, "project") == project


def make_role(permissions: dict[str, tuple[str, ...]]) -> str:
	"""A new role with the given rights (doctype -> ptypes beyond read), next to the standard ones."""
	role = frappe.get_doc(
		{"doctype": "Role", "role_name": f"OS Role {frappe.generate_hash(length=6)}"}
	).insert()
	for doctype, ptypes in permissions.items():
		add_permission(doctype, role.name)
		for ptype in ptypes:
			update_permission_property(doctype, role.name, 0, ptype, 1)
	return role.name


@pytest.fixture
def clear_permission_cache():
	"""Custom DocPerms made in a test are rolled back with it; Frappe's cached meta must go too."""
	yield
	frappe.db.rollback()
	for doctype in ("Opportunity", "Project", "Quote", "Sales Order"):
		frappe.clear_cache(doctype=doctype)


@pytest.fixture
def opportunity_editor(clear_permission_cache):
	"""A user whose only role may read and write opportunities, but not create projects."""
	return make_user(make_role({"Opportunity": ("write",)}))


def test_a_user_without_project_create_rights_is_refused(opportunity_editor):
	opp = make_opportunity()
	quote = make_quote(opp.name)
	frappe.set_user(opportunity_editor)
	assert frappe.has_permission("Opportunity", "write", doc=opp.name)
	state = can_convert(opp.name)
	assert not state["can_convert"] and "create projects" in state["reason"]
	with pytest.raises(frappe.PermissionError, match="create projects"):
		api_convert_to_project(opp.name)
	frappe.set_user("Administrator")
	assert not frappe.db.get_value("Opportunity", opp.name, "project")
	assert not frappe.db.get_value("Project", {"opportunity": opp.name})
	assert not frappe.db.get_value("Quote", quote.name, "project")


def test_write_rights_on_quotes_are_needed_only_when_there_are_quotes(clear_permission_cache):
	user = make_user(make_role({"Opportunity": ("write",), "Project": ("create", "write")}))
	with_quote, without = make_opportunity(), make_opportunity()
	quote = make_quote(with_quote.name)
	frappe.set_user(user)
	with pytest.raises(frappe.PermissionError, match="write access to Quote"):
		api_convert_to_project(with_quote.name)
	assert api_convert_to_project(without.name)
	frappe.set_user("Administrator")
	assert not frappe.db.get_value("Quote", quote.name, "project")
	assert not frappe.db.get_value("Opportunity", with_quote.name, "project")


def test_a_user_who_cannot_read_the_opportunity_is_refused():
	opp = make_opportunity()
	frappe.set_user(make_user("Blogger"))
	with pytest.raises(frappe.PermissionError):
		can_convert(opp.name)
	with pytest.raises(frappe.PermissionError):
		api_convert_to_project(opp.name)
	frappe.set_user("Administrator")
	assert not frappe.db.get_value("Project", {"opportunity": opp.name})


def test_api_methods():
	assert frappe.allowed_http_methods_for_whitelisted_func[api_convert_to_project] == ["POST"]
	assert frappe.allowed_http_methods_for_whitelisted_func[can_convert] == ["GET"]
