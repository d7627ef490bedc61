"""The Alert Rule form in the desk (headless Chromium): the shipped example opens and offers the record's
fields for conditions."""

import pytest

from opportunity_suite.services.alerts.example import EXAMPLE_RULE


@pytest.mark.browser
def test_alert_rule_form_offers_the_records_fields(desk):
	errors = []
	desk.on("pageerror", lambda e: errors.append(str(e)))
	desk.goto(f"/app/alert-rule/{EXAMPLE_RULE}")
	desk.wait_for_function("() => window.cur_frm && cur_frm.doc && cur_frm.doc.name", timeout=30_000)
	desk.wait_for_function(
		"""() => {
			const df = cur_frm.fields_dict.conditions.grid.get_docfield("fieldname");
			return df && df.fieldtype === "Autocomplete" && (df.options || []).includes("amount");
		}""",
		timeout=30_000,
	)
	assert desk.evaluate("cur_frm.doc.document_type") == "Opportunity"
	assert desk.evaluate("cur_frm.doc.conditions[0].fieldname") == "amount"
	assert "Amount over 10000" in desk.inner_text(".page-head")
	assert errors == []
