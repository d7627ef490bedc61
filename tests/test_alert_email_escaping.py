"""The alert e-mail body: every value of the record it inserts is escaped, also inside attributes quoted
either way, so hostile names (stage, type, lead source, organization, opportunity) arrive as text."""

import frappe

from opportunity_suite.services.alerts import templates
from tests.factories import make_opportunity

BODY = (
	"<p title=\"{{ doc.opportunity_name }}\" data-stage='{{ doc.sales_stage }}'>"
	"{{ doc.opportunity_name }} ({{ doc.organization }}, {{ doc.opportunity_type }}, {{ doc.lead_source }})"
	"</p><a href='/app/opportunity?stage={{ doc.sales_stage }}' title=\"{{ doc.next_step }}\">open</a>"
)


def test_the_body_escapes_every_value_it_inserts():
	hostile = "Tom\" onmouseover=\"alert(1)' onmouseover='alert(2)` &lt;img src=x onerror=alert(3)&gt;"
	opportunity = make_opportunity(opportunity_name=hostile, next_step=hostile)
	context = templates.record_context(opportunity)
	# the picklist and organization values as they could have been stored before names had to be safe
	context["doc"] = templates.RecordView(
		{
			**context["doc"]._values,
			"sales_stage": "Hot' onmouseover='alert(4)",
			"organization": 'Org" onmouseover="alert(5)',
			"opportunity_type": "New' x='",
			"lead_source": "<script>alert(6)</script>",
		}
	)
	templates.check_template(BODY, "Opportunity")
	body = templates.render(BODY, context, "Opportunity")
	assert "<script" not in body and "<img" not in body
	assert '" onmouseover' not in body and "' onmouseover" not in body and "' x='" not in body
	assert frappe.utils.escape_html("&lt;img") in body or "&amp;lt;img" in body
	assert body.count("<p ") == 1 and body.count("<a ") == 1  # the template's own markup stays
