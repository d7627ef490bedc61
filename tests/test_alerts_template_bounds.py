"""Alert templates are bounded: refused at save when they can't be, stopped when they render too slowly or
too large (a failure toward the rule's switch-off), and never evaluated when they compile."""

import time
import tracemalloc

import frappe
import pytest
from frappe.utils import now_datetime

from opportunity_suite.services.alerts import clear_rules_cache, templates
from opportunity_suite.services.alerts.errors import TemplateBoundError, TemplateRefusedError
from tests.alerts_fixtures import alert_logs, make_rule
from tests.factories import make_opportunity


@pytest.fixture(autouse=True)
def _remove_error_logs():
	start = now_datetime()
	yield
	frappe.db.delete("Error Log", {"method": ("like", "Alert Rule % failed"), "creation": (">=", start)})


def _rule_with_subject(subject: str):
	return make_rule(
		actions=[{"action_type": "Notification", "recipient_users": "Administrator", "subject": subject}]
	)


def _context(**values):
	return templates.record_context(make_opportunity(**values))


@pytest.mark.parametrize(
	"template, reason",
	[
		("{{ 9**(9**7) }}", "**"),
		("{{ 'x' * 10**8 }}", "**"),
		("{% set a = doc.opportunity_name %}{{ a }}", "set"),
		("{% set a %}x{% endset %}{{ a }}", "set"),
		(
			"{% for a in [1, 2] %}{% for b in [1, 2] %}{{ a }}{% endfor %}{% endfor %}",
			"nested",
		),
		("{% for c in doc.description %}{{ c }}{% endfor %}", "table of the record"),
		("{% for c in 'x' * 100000 %}{{ c }}{% endfor %}", "table of the record"),
		("{{ '" + "x" * 20_001 + "' }}", "longer than"),
		("{{ " + "9" * 5000 + " }}", "can read"),  # beyond Python's digits limit: was a ValueError (500)
	],
)
def test_unbounded_template_is_refused_at_save_quickly(template, reason):
	templates.template_fields("Opportunity")  # the record's fields, read once
	start = time.monotonic()
	with pytest.raises(TemplateRefusedError, match=reason.replace("*", r"\*")):
		templates.check_template(template, "Opportunity")
	assert time.monotonic() - start < 1
	if len(template) <= 500:  # the subject's length: the rule's save refuses it too
		with pytest.raises(TemplateRefusedError):
			_rule_with_subject(template)


def test_loops_over_a_child_table_or_a_written_list_are_allowed():
	for template in (
		"{% for row in doc.items %}{{ row.item }}{% endfor %}",
		"{% for row in items %}{{ loop.index }}{% endfor %}",
		"{% for v in [doc.status, 'x'] %}{{ v }}{% else %}none{% endfor %}",
	):
		templates.check_template(template, "Opportunity")


def test_compiling_evaluates_nothing():
	"""Jinja folds constant expressions when it compiles; ours folds none (9**(9**7) took 3 s per save)."""
	start = time.monotonic()
	compiled = templates.environment().from_string("{{ 9**(9**7) }}{{ 'x'|center(100000000) }}")
	assert time.monotonic() - start < 0.5
	with pytest.raises(TemplateBoundError):
		compiled.render({})


@pytest.mark.parametrize(
	"template",
	[
		"{{ 'x' * 100000000 }}",
		"{{ 100000000 * 'x' }}",
		"{{ ['x'] * 100000000 }}",
		"{{ ('x' * 150000) ~ ('y' * 150000) }}",
		"{{ ('x' * 150000) + ('y' * 150000) }}",
		"{{ 'x'|center(100000000) }}",
		"{{ ('x' * 1000)|replace('x', 'y' * 1000) }}",
		"{{ ('x' * 1000)|join('y' * 1000) }}",
		"{{ '%0100000000d'|format(1) }}",
		"{{ '%0100000000d' % 1 }}",
		"{{ '%*d' % (100000000, 1) }}",
		"{{ 99999999999999999999 * 99999999999999999999 * 99999999999999999999 * 99999999999999999999 }}",
	],
)
def test_a_value_too_large_is_refused_before_it_is_built(template):
	context = _context()
	tracemalloc.start()
	start = time.monotonic()
	try:
		with pytest.raises(TemplateBoundError):
			templates.render(template, context)
		peak = tracemalloc.get_traced_memory()[1]
	finally:
		tracemalloc.stop()
	assert time.monotonic() - start < 1
	assert peak < 20_000_000  # 'x' * 10**8 took 421 MB


def test_output_is_capped():
	with pytest.raises(TemplateBoundError, match="renders more than"):
		templates.render("{{ 'x' * 150000 }}{{ 'y' * 150000 }}", _context())
	assert templates.render("{{ 'x' * 1000 }}", _context()) == "x" * 1000


def test_render_time_is_limited():
	template = "{% for i in [" + ", ".join(["1"] * 3000) + "] %}{{ 'x' * 50 == 'y' * 50 }}{% endfor %}"
	templates.check_template(template, "Opportunity")
	context = _context()
	with pytest.raises(TemplateBoundError, match="longer than"):
		templates.render(template, context, seconds=0.001)
	assert templates.render(template, context).count("False") == 3000


def test_a_rule_rendering_too_large_fails_and_is_switched_off_after_three_saves():
	rule = _rule_with_subject("{{ doc.opportunity_name }}")
	# written past validation: Pow and a huge product (validation would refuse the first)
	frappe.db.set_value("Alert Rule Action", rule.actions[0].name, "subject", "{{ 'x' * 100000000 }}")
	clear_rules_cache()
	names = [make_opportunity().name for _ in range(3)]  # each save succeeds
	failures = alert_logs(rule.name, outcome="Failed")
	assert [f.reference_name for f in failures] == names
	assert "longer than" in failures[0].error
	assert not frappe.db.get_value("Alert Rule", rule.name, "enabled")


def test_a_rule_written_past_validation_with_pow_fails_at_once():
	rule = _rule_with_subject("{{ doc.opportunity_name }}")
	frappe.db.set_value("Alert Rule Action", rule.actions[0].name, "subject", "{{ 9**(9**7) }}")
	clear_rules_cache()
	templates._compiled.clear()
	start = time.monotonic()
	opportunity = make_opportunity()
	assert time.monotonic() - start < 2
	[failure] = alert_logs(rule.name, outcome="Failed", reference_name=opportunity.name)
	assert "**" in failure.error


# ---------------------------------------------------------------- e-mails render off the request


def _email_rule(subject: str = "Deal {{ doc.opportunity_name }}", message: str = "{{ doc.amount|money }}"):
	return make_rule(
		actions=[
			{
				"action_type": "Email",
				"recipient_addresses": "team@opportunity-suite.test",
				"subject": subject,
				"message": message,
			}
		]
	)


def test_the_save_does_not_render_the_alert_email():
	"""Outside tests the e-mail's job runs after the commit, in a worker: the request renders nothing."""
	rule = _email_rule()
	frappe.flags.in_test = False  # as in the web server: the job goes to the queue after the commit
	try:
		opportunity = make_opportunity(amount=500)
	finally:
		frappe.flags.in_test = True
	[log] = alert_logs(rule.name, reference_name=opportunity.name)
	assert log.email_queues == ""
	assert not frappe.get_all("Email Queue", filters={"reference_name": opportunity.name})


def test_an_email_template_too_large_fails_in_its_job_and_switches_the_rule_off():
	rule = _email_rule()
	frappe.db.set_value("Alert Rule Action", rule.actions[0].name, "message", "{{ 'x' * 100000000 }}")
	clear_rules_cache()
	names = [make_opportunity().name for _ in range(3)]  # each save succeeds
	failures = alert_logs(rule.name, outcome="Failed")
	assert [f.reference_name for f in failures] == names
	assert "longer than" in failures[0].error
	assert not frappe.get_all("Email Queue", filters={"reference_name": ("in", names)})
	assert not frappe.db.get_value("Alert Rule", rule.name, "enabled")


@pytest.fixture
def committed_email_rule():
	from tests.records_fixtures import delete_committed

	rule = _email_rule()
	frappe.db.commit()
	made = []
	yield rule, made
	frappe.db.rollback()
	queued = frappe.get_all("Email Queue", filters={"reference_name": ("in", made or [""])}, pluck="name")
	if queued:
		frappe.db.delete("Email Queue Recipient", {"parent": ("in", queued)})
		frappe.db.delete("Email Queue", {"name": ("in", queued)})
	frappe.db.delete("Alert Log", {"alert_rule": rule.name})
	delete_committed("Opportunity", made)
	delete_committed("Alert Rule", [rule.name])
	frappe.db.commit()


def test_a_worker_renders_and_queues_the_alert_email(committed_email_rule, worker):
	rule, made = committed_email_rule
	frappe.flags.in_test = False  # the job goes to the real queue, for the worker
	try:
		opportunity = make_opportunity(amount=777)
		made.append(opportunity.name)
		frappe.db.commit()
	finally:
		frappe.flags.in_test = True
	deadline = time.monotonic() + 90
	while time.monotonic() < deadline:
		frappe.db.rollback()
		[log] = alert_logs(rule.name, reference_name=opportunity.name)
		if log.email_queues:
			break
		time.sleep(1)
	assert log.email_queues, "the worker did not queue the e-mail within 90 s"
	queue = frappe.get_doc("Email Queue", log.email_queues.split("\n")[0])
	assert opportunity.opportunity_name in queue.message and "777" in queue.message
