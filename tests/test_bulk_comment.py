"""Bulk Add Comment: one typed POST method, author from the session, read checked per record."""

import frappe
import pytest

from opportunity_suite.api.bulk import add_comment
from opportunity_suite.services.comments import MAX_RECORDS, EmptyCommentError, TooManyRecordsError
from tests.factories import make_opportunity, make_user


def _comments(name):
	return frappe.get_all(
		"Comment",
		filters={"reference_doctype": "Opportunity", "reference_name": name, "comment_type": "Comment"},
		fields=["content", "comment_email", "comment_by", "owner"],
	)


def test_sales_user_comments_on_every_selected_record_as_themselves():
	user = make_user("Sales User")
	opps = [make_opportunity() for _ in range(3)]
	frappe.set_user(user)
	result = add_comment([o.name for o in opps], "<p>Called <b>them</b></p>")
	assert result == {"added": 3, "skipped": []}
	for opp in opps:
		(comment,) = _comments(opp.name)
		assert comment.comment_email == user and comment.owner == user
		assert comment.content == "<p>Called <b>them</b></p>"


def test_json_names_from_the_desk_are_accepted():
	opp = make_opportunity()
	assert add_comment(frappe.as_json([opp.name]), "hello")["added"] == 1


def test_html_is_sanitised():
	opp = make_opportunity()
	add_comment(
		[opp.name], '<p onclick="steal()">hi<script>alert(1)</script><img src=x onerror=alert(2)></p>'
	)
	(comment,) = _comments(opp.name)
	assert "<script" not in comment.content and "onerror" not in comment.content
	assert "onclick" not in comment.content and "hi" in comment.content


def test_records_the_user_cannot_read_or_that_do_not_exist_are_skipped():
	# a user without a sales role who may read only the record shared with them
	reader = make_user("Blogger")
	shared, hidden = make_opportunity(), make_opportunity()
	frappe.share.add("Opportunity", shared.name, reader, read=1)
	frappe.set_user(reader)
	result = add_comment([shared.name, hidden.name, "OPP-NOPE"], "note")
	assert result["added"] == 1
	assert {s["name"]: s["reason"] for s in result["skipped"]} == {
		hidden.name: "No permission to read it",
		"OPP-NOPE": "Not found",
	}
	frappe.set_user("Administrator")
	assert len(_comments(shared.name)) == 1 and not _comments(hidden.name)


def test_a_user_without_any_read_permission_is_refused():
	outsider = make_user("Blogger")
	opp = make_opportunity()
	frappe.set_user(outsider)
	with pytest.raises(frappe.PermissionError):
		add_comment([opp.name], "note")
	frappe.set_user("Administrator")
	assert not _comments(opp.name)


def test_more_than_the_cap_is_refused_and_empty_comments_too():
	with pytest.raises(TooManyRecordsError):
		add_comment([f"OPP-{i}" for i in range(MAX_RECORDS + 1)], "note")
	opp = make_opportunity()
	with pytest.raises(EmptyCommentError):
		add_comment([opp.name], "<p> </p>")


def test_the_method_is_post_only():
	from frappe import is_whitelisted

	assert add_comment in frappe.allowed_http_methods_for_whitelisted_func and (
		frappe.allowed_http_methods_for_whitelisted_func[add_comment] == ["POST"]
	)
	is_whitelisted(add_comment)
