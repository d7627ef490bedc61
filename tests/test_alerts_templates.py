"""Templates: sandboxed, autoescaped, only the record's readable fields; anything else refused at save."""

import frappe
import pytest

from opportunity_suite.services.alerts import templates
from opportunity_suite.services.alerts.errors import TemplateRefusedError
from tests.alerts_fixtures import make_rule
from tests.factories import make_opportunity


@pytest.mark.parametrize(
	"template",
	[
		"{{ frappe.db.sql('select name from tabUser') }}",
		"{{ frappe.get_all('User') }}",
		"{{ frappe.sendmail(recipients='x@example.com') }}",
		"{{ doc.__class__ }}",
		"{{ doc.__class__.__mro__[1].__subclasses__() }}",
		"{{ doc['__class__'] }}",
		"{{ ''.__class__ }}",
		"{{ doc.opportunity_name.upper() }}",
		"{{ doc.amount.real }}",
		"{{ doc.no_such_field }}",
		"{{ range(10) }}",
		"{{ lipsum() }}",
		"{{ cycler(1, 2) }}",
		"{{ namespace(a=1) }}",
		"{{ [doc.name]|map(attribute='__class__')|list }}",
		"{{ [doc.name]|join(attribute='__class__') }}",
		"{{ doc|attr('__class__') }}",
		"{{ doc.opportunity_name|safe }}",
		"{% include 'frappe/templates/base.html' %}",
		"{% import 'x.html' as x %}",
		"{% macro m() %}{% endmacro %}",
		"{% for x in [doc] %}{{ x.__class__ }}{% endfor %}",
		"{% set f = frappe %}{{ f }}",
		"{{ doc.opportunity_name",
	],
)
def test_template_reaching_beyond_the_record_is_refused_at_save(template):
	with pytest.raises(TemplateRefusedError):
		make_rule(
			actions=[{"action_type": "Notification", "recipient_users": "Administrator", "subject": template}]
		)
	with pytest.raises(TemplateRefusedError):
		make_rule(
			actions=[
				{
					"action_type": "Email",
					"recipient_addresses": "a@example.com",
					"subject": "x",
					"message": template,
				}
			]
		)


def test_template_over_the_record_renders_with_values_escaped():
	template = (
		"{{ doc.opportunity_name }} | {{ opportunity_name|upper }} | {{ doc.amount|money }} | "
		"{% if doc.amount > 1000 %}big{% else %}small{% endif %} | "
		"{% for v in [doc.status, doc.currency] %}{{ loop.index }}{{ v }}{% endfor %} | {{ doc['sales_stage'] }}"
	)
	templates.check_template(template, "Opportunity")
	opportunity = make_opportunity(opportunity_name="Tom <b>&</b> Jerry", amount=2500)
	rendered = templates.render(template, templates.record_context(opportunity))
	stored = opportunity.opportunity_name
	assert "<b>" not in rendered
	assert frappe.utils.escape_html(stored) in rendered
	assert frappe.utils.fmt_money(2500) in rendered
	assert "| big |" in rendered
	assert f"| 1Open2{opportunity.currency} |" in rendered
	assert "| Prospecting" in rendered


def test_context_is_the_record_fields_only():
	opportunity = make_opportunity(amount=10)
	context = templates.record_context(opportunity)
	assert "frappe" not in context
	assert set(context) - {"doc"} <= {f.fieldname for f in templates.readable_fields("Opportunity")}
	assert "_assign" not in context
	# the sandbox itself refuses attribute walks even on a template never checked
	with pytest.raises(Exception, match=r"unsafe|not safely|access"):
		templates.render("{{ doc._values.__class__ }}", context)
