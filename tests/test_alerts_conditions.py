"""The condition evaluator: every operator, All/Any, validation at save, unknown operators at run time."""

import frappe
import pytest
from frappe.utils import add_days, today

from opportunity_suite.services.alerts import conditions as cond
from opportunity_suite.services.alerts.errors import (
	InvalidConditionValueError,
	UnknownFieldError,
	UnknownOperatorError,
)
from tests.alerts_fixtures import make_rule

RECORD = {
	"name": "OPP-00042",
	"opportunity_name": "Acme Renewal",
	"amount": 15000.0,
	"probability": 40.0,
	"sales_stage": "Negotiation/Review",
	"status": "Open",
	"opportunity_type": "New Business",
	"lead_source": "Trade Show",
	"expected_close_date": add_days(today(), 5),
	"next_step": None,
	"campaign": "",
}


def check(fieldname, operator, value="", value2="", values=RECORD, before=None):
	return cond.evaluate_condition(
		cond.Condition(fieldname, operator, value, value2), values, before, "Opportunity"
	)


@pytest.mark.parametrize(
	("fieldname", "operator", "value", "value2", "expected"),
	[
		("amount", "Equals", "15000", "", True),
		("amount", "Equals", "15000.00", "", True),
		("amount", "Equals", "14999", "", False),
		("opportunity_name", "Equals", "acme renewal", "", True),
		("opportunity_type", "Equals", "new business", "", True),
		("lead_source", "In", "Partner, trade show", "", True),
		("lead_source", "Not In", "Partner, Web Site", "", True),
		("amount", "Not Equals", "15000", "", False),
		("sales_stage", "Not Equals", "Closed Won", "", True),
		("amount", "Greater Than", "10000", "", True),
		("amount", "Greater Than", "15000", "", False),
		("amount", "Greater Than Or Equal", "15000", "", True),
		("amount", "Less Than", "15000", "", False),
		("amount", "Less Than", "20000", "", True),
		("amount", "Less Than Or Equal", "15000", "", True),
		("opportunity_name", "Contains", "RENEW", "", True),
		("opportunity_name", "Contains", "upsell", "", False),
		("opportunity_name", "Does Not Contain", "upsell", "", True),
		("opportunity_name", "Does Not Contain", "acme", "", False),
		("opportunity_name", "Starts With", "acme", "", True),
		("opportunity_name", "Starts With", "renewal", "", False),
		("opportunity_name", "Ends With", "Renewal", "", True),
		("opportunity_name", "Ends With", "Acme", "", False),
		("next_step", "Is Empty", "", "", True),
		("campaign", "Is Empty", "", "", True),
		("opportunity_name", "Is Empty", "", "", False),
		("next_step", "Is Not Empty", "", "", False),
		("opportunity_name", "Is Not Empty", "", "", True),
		("status", "In", "Won, Lost", "", False),
		("status", "In", "Open,Won", "", True),
		("status", "Not In", "Won, Lost", "", True),
		("amount", "In", "100, 15000", "", True),
		("expected_close_date", "Before", add_days(today(), 6), "", True),
		("expected_close_date", "Before", add_days(today(), 5), "", False),
		("expected_close_date", "After", add_days(today(), 4), "", True),
		("expected_close_date", "After", "today", "", True),
		("expected_close_date", "Between", today(), add_days(today(), 5), True),
		("expected_close_date", "Between", add_days(today(), 6), add_days(today(), 9), False),
		("amount", "Between", "10000", "20000", True),
		("amount", "Between", "15001", "20000", False),
		("expected_close_date", "Within Next Days", "7", "", True),
		("expected_close_date", "Within Next Days", "4", "", False),
		("expected_close_date", "Within Last Days", "7", "", False),
	],
)
def test_operator(fieldname, operator, value, value2, expected):
	assert check(fieldname, operator, value, value2) is expected


def test_within_last_days_and_datetime_fields():
	past = dict(RECORD, expected_close_date=add_days(today(), -3))
	assert check("expected_close_date", "Within Last Days", "3", values=past) is True
	assert check("expected_close_date", "Within Last Days", "2", values=past) is False
	assert check("expected_close_date", "Within Next Days", "30", values=past) is False
	# a Datetime field against a date: its date part is compared
	stamped = dict(RECORD, creation=frappe.utils.now_datetime())
	assert check("creation", "After", add_days(today(), -1), values=stamped) is True
	assert check("creation", "Equals", "today", values=stamped) is True
	assert check("creation", "Within Last Days", "0", values=stamped) is True


def test_empty_dates_never_match_a_comparison():
	blank = dict(RECORD, expected_close_date=None)
	for operator, value in (("Before", "today"), ("After", "today"), ("Within Next Days", "5")):
		assert check("expected_close_date", operator, value, values=blank) is False
	assert check("expected_close_date", "Is Empty", values=blank) is True


def test_change_operators_compare_before_and_after():
	before = dict(RECORD, sales_stage="Proposal/Price Quote")
	assert check("sales_stage", "Has Changed", before=before) is True
	assert check("amount", "Has Changed", before=before) is False
	assert check("sales_stage", "Has Changed To", "Negotiation/Review", before=before) is True
	assert check("sales_stage", "Has Changed To", "Closed Won", before=before) is False
	assert check("sales_stage", "Has Changed From", "Proposal/Price Quote", before=before) is True
	assert check("sales_stage", "Has Changed From", "Prospecting", before=before) is False
	# unchanged: "changed to" its current value is still False
	assert check("sales_stage", "Has Changed To", "Negotiation/Review", before=RECORD) is False
	# a new record (no before): its values changed from empty
	assert check("sales_stage", "Has Changed", before=None) is True
	assert check("sales_stage", "Has Changed To", "Negotiation/Review", before=None) is True
	assert check("next_step", "Has Changed", before=None) is False
	# numbers: 15000 vs 15000.0 is no change
	assert check("amount", "Has Changed", before=dict(RECORD, amount="15000")) is False


def test_all_and_any():
	true = cond.Condition("amount", "Greater Than", "10000")
	false = cond.Condition("status", "Equals", "Won")
	assert cond.evaluate([true, true], "All", RECORD, None, "Opportunity") is True
	assert cond.evaluate([true, false], "All", RECORD, None, "Opportunity") is False
	assert cond.evaluate([true, false], "Any", RECORD, None, "Opportunity") is True
	assert cond.evaluate([false, false], "Any", RECORD, None, "Opportunity") is False
	assert cond.evaluate([], "All", RECORD, None, "Opportunity") is True


def test_unknown_operator_at_run_time_is_an_error_not_false():
	with pytest.raises(UnknownOperatorError):
		check("amount", "Roughly", "15000")
	# even where Any would stop at a first true condition
	conditions = [cond.Condition("amount", "Greater Than", "1"), cond.Condition("amount", "Roughly", "1")]
	with pytest.raises(UnknownOperatorError):
		cond.evaluate(conditions, "Any", RECORD, None, "Opportunity")


def test_deleted_field_at_run_time_is_an_error():
	with pytest.raises(UnknownFieldError):
		check("no_such_field", "Equals", "1")


@pytest.mark.parametrize(
	("condition", "error", "words"),
	[
		(("no_such_field", "Equals", "1"), UnknownFieldError, "does not exist"),
		(("amount", "Roughly", "1"), UnknownOperatorError, "Unknown operator"),
		(("amount", "Greater Than", "lots"), InvalidConditionValueError, "not a valid value"),
		(("amount", "Greater Than", ""), InvalidConditionValueError, "needs a value"),
		(("expected_close_date", "Before", "next week"), InvalidConditionValueError, "YYYY-MM-DD"),
		(("expected_close_date", "Within Next Days", "seven"), InvalidConditionValueError, "number of days"),
		(("amount", "Between", "10"), InvalidConditionValueError, "second value"),
		(("opportunity_name", "Greater Than", "A"), InvalidConditionValueError, "doesn't apply"),
		(("amount", "Contains", "1"), InvalidConditionValueError, "doesn't apply"),
		(("status", "Equals", "Pending"), InvalidConditionValueError, "not one of the options"),
		(("status", "In", ""), InvalidConditionValueError, "list of values"),
		(("sales_stage", "Equals", "No Such Stage"), InvalidConditionValueError, "does not exist"),
		(("sales_stage", "In", "Prospecting, Nope"), InvalidConditionValueError, "does not exist"),
		(("lead_source", "Equals", "Carrier Pigeon"), InvalidConditionValueError, "does not exist"),
		(("opportunity_type", "In", "New Business, Nope"), InvalidConditionValueError, "does not exist"),
		(("probability_is_manual", "Equals", "2"), InvalidConditionValueError, "checkbox"),
	],
)
def test_rule_with_an_impossible_condition_is_refused_at_save(condition, error, words):
	with pytest.raises(error, match=words):
		make_rule(conditions=[condition])


def test_change_operators_refused_on_scheduled_rules():
	for operator in ("Has Changed", "Has Changed To", "Has Changed From"):
		with pytest.raises(InvalidConditionValueError, match="scheduled"):
			make_rule(
				conditions=[("sales_stage", operator, "Closed Won")],
				trigger="On Schedule",
				schedule_frequency="Daily",
				schedule_time="09:00:00",
			)


def test_valid_conditions_are_accepted():
	rule = make_rule(
		conditions=[
			("amount", "Greater Than", "10000"),
			("status", "Not In", "Won, Lost"),
			("expected_close_date", "Within Next Days", "7"),
			("sales_stage", "Has Changed To", "Closed Won"),
			("opportunity_name", "Contains", "acme"),
			("lead_source", "Equals", "Trade Show"),
			("opportunity_type", "Has Changed To", "Existing Business"),
		]
	)
	assert len(rule.conditions) == 7
