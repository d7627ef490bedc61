import frappe
import pytest
from frappe.utils import today

from opportunity_suite.services.stages import DEFAULT_STAGES, StageError
from tests.factories import make_opportunity, unique


def test_vtiger_stages_are_shipped():
	for name, probability, stage_type in DEFAULT_STAGES:
		stage = frappe.get_doc("Opportunity Stage", name)
		assert (stage.default_probability, stage.stage_type) == (probability, stage_type)


def test_stage_fills_the_probability():
	opp = make_opportunity(sales_stage="Qualification", amount=1000)
	assert (opp.probability, opp.probability_is_manual, opp.forecast_amount) == (20, 0, 200)
	opp.sales_stage = "Negotiation/Review"
	opp.save()
	assert (opp.probability, opp.forecast_amount) == (80, 800)


def test_a_probability_typed_by_hand_survives_stage_changes():
	opp = make_opportunity(sales_stage="Qualification", amount=1000, probability=35)
	assert (opp.probability, opp.probability_is_manual) == (35, 1)
	opp.sales_stage = "Value Proposition"
	opp.save()
	assert opp.probability == 35


def test_changing_the_probability_later_marks_it_manual():
	opp = make_opportunity(sales_stage="Qualification")
	opp.probability = 45
	opp.save()
	assert opp.probability_is_manual == 1
	# a stage change over REST-like partial update keeps it
	doc = frappe.get_doc("Opportunity", opp.name)
	doc.sales_stage = "Perception Analysis"
	doc.save()
	assert doc.probability == 45


def test_clearing_the_manual_flag_takes_the_stage_default():
	opp = make_opportunity(sales_stage="Qualification", probability=35)
	opp.probability_is_manual = 0
	opp.save()
	assert opp.probability == 20


def test_won_and_lost_set_status_and_closed_on():
	opp = make_opportunity(sales_stage="Closed Won", amount=100)
	assert (opp.status, str(opp.closed_on), opp.probability) == ("Won", today(), 100)
	opp.sales_stage = "Prospecting"
	opp.save()
	assert (opp.status, opp.closed_on) == ("Open", None)


def test_lost_needs_a_reason():
	with pytest.raises(frappe.MandatoryError):
		make_opportunity(sales_stage="Closed Lost")
	opp = make_opportunity(sales_stage="Closed Lost", lost_reason="Went with a competitor")
	assert opp.status == "Lost"


def test_disabled_stage_cannot_be_picked_but_stays_on_records():
	stage = frappe.get_doc(
		{
			"doctype": "Opportunity Stage",
			"stage_name": unique("Stage"),
			"default_probability": 15,
			"sequence": 5,
		}
	).insert()
	opp = make_opportunity(sales_stage=stage.name)
	stage.disabled = 1
	stage.save()
	opp.reload()
	opp.amount = 10
	opp.save()  # keeps its disabled stage
	assert opp.sales_stage == stage.name
	with pytest.raises(StageError):
		make_opportunity(sales_stage=stage.name)


def test_probability_must_be_a_percentage():
	with pytest.raises(frappe.ValidationError):
		make_opportunity(probability=120)


def test_a_new_record_s_empty_probability_takes_the_stage_default():
	opp = make_opportunity(sales_stage="Qualification", probability=0)
	assert (opp.probability, opp.probability_is_manual) == (20, 0)
	chosen = make_opportunity(sales_stage="Qualification", probability=0, probability_is_manual=1)
	assert (chosen.probability, chosen.probability_is_manual) == (0, 1)
