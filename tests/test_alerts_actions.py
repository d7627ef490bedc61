"""Actions (email, notification, ToDo, update field) and who receives them."""

import frappe
import pytest
from frappe.utils import add_days, getdate, today

from opportunity_suite.services.alerts.errors import ForbiddenUpdateFieldError, RecipientError
from tests.alerts_fixtures import alert_logs, make_rule, outbox_account
from tests.factories import make_opportunity, make_user


@pytest.fixture
def outbox():
	yield from outbox_account()


@pytest.fixture
def no_read_role():
	"""A role with no permission on Opportunity."""
	role = frappe.get_doc(
		{"doctype": "Role", "role_name": f"Alert Outsider {frappe.generate_hash(length=6)}"}
	)
	role.insert(ignore_permissions=True)
	return role.name


def queue_recipients(queue_names: str) -> set[str]:
	names = [n for n in (queue_names or "").split("\n") if n]
	return (
		set(frappe.get_all("Email Queue Recipient", filters={"parent": ("in", names)}, pluck="recipient"))
		if names
		else set()
	)


def test_email_goes_to_the_email_queue_for_users_roles_addresses_and_fields(outbox):
	manager = make_user("Sales Manager")
	seller = make_user("Sales User")
	owner_of_deal = make_user("Sales User")
	rule = make_rule(
		actions=[
			{
				"action_type": "Email",
				"recipient_users": seller,
				"recipient_roles": "Sales Manager",
				"recipient_addresses": "partner@example.com",
				"recipient_fields": "assigned_to",
				"subject": "Deal {{ doc.opportunity_name }}",
				"message": "<p>{{ doc.amount|money }}</p>",
			}
		]
	)
	opportunity = make_opportunity(amount=15000, assigned_to=owner_of_deal)
	[log] = alert_logs(rule.name, reference_name=opportunity.name)
	assert log.email_queues
	recipients = queue_recipients(log.email_queues)
	assert {manager, seller, owner_of_deal, "partner@example.com"} <= recipients
	queue = frappe.get_doc("Email Queue", log.email_queues.split("\n")[0])
	assert queue.status == "Not Sent"
	assert queue.reference_doctype == "Opportunity"
	assert queue.reference_name == opportunity.name
	assert f"Subject: Deal {opportunity.opportunity_name}" in queue.message


def test_one_link_away_recipient_field(outbox):
	assignee = make_user("Sales User")
	rule = make_rule(
		actions=[
			{"action_type": "Email", "recipient_fields": "assigned_to.email", "subject": "x", "message": "y"}
		]
	)
	opportunity = make_opportunity(assigned_to=assignee)
	[log] = alert_logs(rule.name, reference_name=opportunity.name)
	assert queue_recipients(log.email_queues) == {frappe.db.get_value("User", assignee, "email")}


def test_the_primary_contact_s_email_one_link_away(outbox):
	from tests.records_fixtures import make_contact

	email = f"{frappe.generate_hash(length=8)}@buyer.example.com"
	contact = make_contact(email=email)
	rule = make_rule(
		actions=[
			{"action_type": "Email", "recipient_fields": "contact.email_id", "subject": "x", "message": "y"}
		]
	)
	opportunity = make_opportunity(contact=contact.name)
	[log] = alert_logs(rule.name, reference_name=opportunity.name)
	assert queue_recipients(log.email_queues) == {email}


def test_recipient_field_through_a_link_that_does_not_exist_is_refused_clearly():
	with pytest.raises(RecipientError, match="has no field"):
		make_rule(
			actions=[{"action_type": "Email", "recipient_fields": "assigned_to.no_such", "subject": "x"}]
		)
	with pytest.raises(RecipientError, match="not a link"):
		make_rule(actions=[{"action_type": "Email", "recipient_fields": "next_step.email", "subject": "x"}])


def test_role_recipient_without_read_rights_receives_nothing(outbox, no_read_role):
	outsider = make_user(no_read_role)
	reader = make_user("Sales Manager", no_read_role)
	rule = make_rule(
		actions=[
			{"action_type": "Email", "recipient_roles": no_read_role, "subject": "x", "message": "y"},
			{"action_type": "Notification", "recipient_roles": no_read_role, "subject": "x"},
			{"action_type": "ToDo", "recipient_roles": no_read_role, "subject": "x"},
		]
	)
	opportunity = make_opportunity(amount=15000)
	[log] = alert_logs(rule.name, reference_name=opportunity.name)
	assert queue_recipients(log.email_queues) == {reader}
	assert (
		frappe.get_all("Notification Log", filters={"for_user": outsider, "document_name": opportunity.name})
		== []
	)
	assert (
		frappe.get_all("ToDo", filters={"allocated_to": outsider, "reference_name": opportunity.name}) == []
	)
	assert frappe.get_all("Notification Log", filters={"for_user": reader, "document_name": opportunity.name})
	# a user or an address of a user who can't read the record is dropped too
	only_outsider = make_rule(
		actions=[
			{
				"action_type": "Email",
				"recipient_users": outsider,
				"recipient_addresses": outsider,
				"subject": "x",
			}
		]
	)
	other = make_opportunity()
	[log] = alert_logs(only_outsider.name, reference_name=other.name)
	assert log.email_queues == ""


def test_notification_lands_in_the_bell():
	manager = make_user("Sales Manager")
	rule = make_rule(
		actions=[
			{
				"action_type": "Notification",
				"recipient_users": manager,
				"subject": "Big deal {{ doc.opportunity_name }}",
				"message": "Amount {{ doc.amount }}",
			}
		]
	)
	opportunity = make_opportunity(opportunity_name="Acme <i>x</i>", amount=42)
	[log] = alert_logs(rule.name, reference_name=opportunity.name)
	notification = frappe.get_doc("Notification Log", log.notification_logs)
	assert notification.for_user == manager
	assert notification.document_type == "Opportunity"
	assert notification.document_name == opportunity.name
	assert notification.subject.startswith("Big deal Acme &lt;i&gt;")


def test_todo_for_a_user_with_a_due_date_offset():
	seller = make_user("Sales User")
	rule = make_rule(
		actions=[
			{
				"action_type": "ToDo",
				"recipient_fields": "assigned_to",
				"subject": "Call {{ doc.opportunity_name }}",
				"todo_due_in_days": 3,
			}
		]
	)
	opportunity = make_opportunity(assigned_to=seller)
	[log] = alert_logs(rule.name, reference_name=opportunity.name)
	todo = frappe.get_doc("ToDo", log.todos)
	assert todo.allocated_to == seller
	assert todo.reference_type == "Opportunity"
	assert todo.reference_name == opportunity.name
	assert getdate(todo.date) == getdate(add_days(today(), 3))
	assert opportunity.opportunity_name in todo.description


def test_update_field_saves_once_without_re_entry():
	rule = make_rule(
		trigger="Every Save",
		conditions=[("amount", "Greater Than", "10000")],
		actions=[
			{"action_type": "Update Field", "update_field": "next_step", "update_value": "Manager review"},
			{"action_type": "Update Field", "update_field": "probability", "update_value": "90"},
		],
	)
	opportunity = make_opportunity(amount=15000, probability=10)
	# the caller's document is brought up to date (and can be saved again without a timestamp error)
	assert opportunity.next_step == "Manager review"
	stored = frappe.get_doc("Opportunity", opportunity.name)
	assert stored.next_step == "Manager review"
	assert stored.probability == 90
	assert stored.forecast_amount == 13500  # the update went through the controller
	[log] = alert_logs(rule.name, reference_name=opportunity.name)  # its own save didn't re-fire
	assert log.updated_fields.splitlines() == ["next_step = Manager review", "probability = 90.0"]
	opportunity.description = "again"
	opportunity.save()
	assert len(alert_logs(rule.name, reference_name=opportunity.name)) == 2


@pytest.mark.parametrize(
	"fieldname", ["forecast_amount", "base_amount", "base_forecast_amount", "status", "closed_on"]
)
def test_update_field_refuses_derived_fields(fieldname):
	with pytest.raises(ForbiddenUpdateFieldError):
		make_rule(actions=[{"action_type": "Update Field", "update_field": fieldname, "update_value": "1"}])


def test_update_field_value_must_fit():
	with pytest.raises(frappe.ValidationError):
		make_rule(
			actions=[{"action_type": "Update Field", "update_field": "probability", "update_value": "high"}]
		)
	with pytest.raises(frappe.ValidationError):
		make_rule(
			actions=[{"action_type": "Update Field", "update_field": "sales_stage", "update_value": "Nope"}]
		)


def test_action_needs_recipients_and_a_subject():
	with pytest.raises(frappe.ValidationError, match="recipient"):
		make_rule(actions=[{"action_type": "Email", "subject": "x"}])
	with pytest.raises(frappe.ValidationError, match="subject"):
		make_rule(actions=[{"action_type": "Email", "recipient_users": "Administrator"}])
	with pytest.raises(RecipientError):
		make_rule(actions=[{"action_type": "Email", "recipient_roles": "No Such Role", "subject": "x"}])
	with pytest.raises(frappe.ValidationError, match="at least one action"):
		make_rule(actions=[])
