import json
from urllib.parse import quote

import frappe
import pytest

from opportunity_suite.api.duplicates import get_duplicates
from opportunity_suite.services.duplicates import DuplicateError
from tests.factories import make_user, unique
from tests.records_fixtures import delete_committed, make_lead, make_organization, rest_client


def test_organization_with_the_same_name_is_refused_trimmed_and_in_any_case():
	existing = make_organization()
	with pytest.raises(DuplicateError) as refused:
		make_organization(organization_name=f"  {existing.organization_name.swapcase()}  ")
	message = str(refused.value)
	# the message links the existing record
	assert f'/app/organization/{quote(existing.name)}">{existing.name}</a>' in message


def test_lead_with_the_same_email_is_refused_trimmed_and_in_any_case():
	existing = make_lead()
	with pytest.raises(DuplicateError, match=existing.name):
		make_lead(email_id=f" {existing.email_id.upper()} ")


def test_caller_who_means_a_new_record_gets_one():
	existing = make_organization()
	twin = make_organization(organization_name=existing.organization_name, ignore_duplicate=1)
	assert twin.name != existing.name and twin.organization_name == existing.organization_name
	twin.description = "saved again without the flag"
	twin.save()  # an accepted duplicate is not re-checked until its name changes
	lead = make_lead()
	assert make_lead(email_id=lead.email_id, ignore_duplicate=1).name != lead.name


def test_renaming_into_a_duplicate_is_refused_but_other_edits_are_not():
	first, second = make_organization(), make_organization()
	second.organization_name = first.organization_name.upper()
	with pytest.raises(DuplicateError):
		second.save()
	lead = make_lead()
	lead.phone = "+44 20 7946 0000"
	lead.save()


def test_leads_without_email_are_never_duplicates():
	make_lead(email_id=None)
	make_lead(email_id="")


def test_desk_check_lists_the_existing_records_for_a_sales_user():
	existing = make_organization()
	frappe.set_user(make_user("Sales User"))
	found = get_duplicates("Organization", existing.organization_name.lower() + " ")
	assert found == [{"name": existing.name, "title": existing.organization_name}]
	assert get_duplicates("Organization", existing.organization_name, name=existing.name) == []


def test_desk_check_is_refused_without_rights():
	existing = make_lead()
	frappe.set_user(make_user("Blogger"))
	with pytest.raises(frappe.PermissionError):
		get_duplicates("Lead", existing.email_id)


# ---------------------------------------------------------------- over REST, on the real web server


@pytest.mark.slow
def test_rest_refuses_a_duplicate_unless_asked_for_a_new_record(web_server):
	name = unique("Rest Org")
	made = []
	try:
		post = rest_client(web_server)
		status, body = post("/api/resource/Organization", {"organization_name": name})
		assert status == 200, body
		made.append(body["data"]["name"])
		status, body = post("/api/resource/Organization", {"organization_name": f" {name.upper()} "})
		assert status == 409, body
		assert body["exc_type"] == "DuplicateError"
		assert made[0] in json.loads(body["_server_messages"])[0]
		status, body = post("/api/resource/Organization", {"organization_name": name, "ignore_duplicate": 1})
		assert status == 200, body
		made.append(body["data"]["name"])
		assert made[1] != made[0]
	finally:
		frappe.db.rollback()
		delete_committed("Organization", made)
		frappe.db.commit()


def test_organization_without_a_name_is_refused_clearly():
	with pytest.raises(frappe.MandatoryError):
		frappe.get_doc({"doctype": "Organization", "organization_name": "  "}).insert()


def test_desk_check_does_not_name_a_record_the_user_cannot_read():
	visible, hidden = make_organization(), make_organization()
	user = make_user("Sales User")
	frappe.get_doc(
		{"doctype": "User Permission", "user": user, "allow": "Organization", "for_value": visible.name}
	).insert()
	frappe.set_user(user)
	assert get_duplicates("Organization", hidden.organization_name) == [
		{"name": None, "title": "a record you may not open"}
	]
	assert get_duplicates("Organization", visible.organization_name)[0]["name"] == visible.name
