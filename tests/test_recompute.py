"""Changing the formula recomputes every opportunity in a background job, in committed batches."""

import frappe
import pytest
from frappe.utils.background_jobs import get_job, is_job_enqueued

from opportunity_suite.services import recompute
from opportunity_suite.services.forecast import DEFAULT_FORMULA
from opportunity_suite.services.recompute import recompute_all_forecasts
from tests.factories import bulk_make_opportunities, delete_bulk_opportunities, set_forecast_settings

COUNT = 10_000


@pytest.fixture
def many_opportunities():
	prefix = "RCT" + frappe.generate_hash(length=5).upper()
	bulk_make_opportunities(COUNT, prefix)
	yield prefix
	delete_bulk_opportunities(prefix)
	set_forecast_settings(forecast_formula=DEFAULT_FORMULA, forecast_enabled=1)
	frappe.db.commit()
	_drop_job()


def _current_job_id() -> str:
	frappe.db.rollback()
	return recompute.job_id(recompute.read_state().recompute_token or "")


def _drop_job():
	if is_job_enqueued(_current_job_id()):
		get_job(_current_job_id()).delete()


def _wrong_rows(prefix: str, sql_formula: str) -> int:
	return frappe.db.sql(
		f"""select count(*) from `tabOpportunity` where name like %s
		and (forecast_amount <> round({sql_formula}, 2) or base_forecast_amount <> forecast_amount)""",
		(prefix + "-%",),
	)[0][0]


def test_saving_a_new_formula_enqueues_a_run_and_a_newer_one_supersedes_it(many_opportunities):
	_drop_job()
	set_forecast_settings(forecast_formula="amount * probability / 100 + 1")
	frappe.db.commit()  # the job is enqueued after commit
	first = _current_job_id()
	assert is_job_enqueued(first)
	job = get_job(first)
	assert job.func_name == "frappe.utils.background_jobs.execute_job"
	assert job.kwargs["method"] == "opportunity_suite.services.recompute.run_recompute_job"
	first_token = job.kwargs["kwargs"]["run_token"]

	set_forecast_settings(forecast_formula="amount * probability / 100 + 2")
	frappe.db.commit()
	second = _current_job_id()
	assert second != first and is_job_enqueued(second)  # the newer formula is never turned away
	state = recompute.read_state()
	assert state.last_recompute_status == "Queued"
	assert state.recompute_formula == "amount * probability / 100 + 2"
	# the older run, when a worker reaches it, stops before writing anything
	assert recompute.recompute_all_forecasts(publish=False, run_token=first_token) == 0
	assert _wrong_rows(many_opportunities, "-1") == 0  # untouched: still the stale -1
	get_job(first).delete()


def test_recompute_updates_every_opportunity_in_batches(many_opportunities):
	prefix = many_opportunities
	modified_before = frappe.db.get_value("Opportunity", f"{prefix}-0000042", "modified")
	set_forecast_settings(forecast_formula="amount * probability / 100 + 1")
	frappe.db.commit()
	_drop_job()

	updated = recompute_all_forecasts(batch_size=1500, publish=False)

	assert updated >= COUNT
	assert _wrong_rows(prefix, "amount * probability / 100 + 1") == 0
	assert frappe.db.get_value("Opportunity", f"{prefix}-0000042", "forecast_amount") == 42 * 42 / 100 + 1
	# a recompute is not an edit
	assert frappe.db.get_value("Opportunity", f"{prefix}-0000042", "modified") == modified_before
	assert frappe.db.get_single_value("Opportunity Settings", "last_recompute_status") == "Completed"
	# a second run finds nothing to change
	assert recompute_all_forecasts(batch_size=1500, publish=False) == 0


def test_recompute_does_nothing_when_the_rule_is_off(many_opportunities):
	prefix = many_opportunities
	set_forecast_settings(forecast_enabled=0)
	frappe.db.commit()
	assert recompute_all_forecasts(publish=False) == 0
	assert frappe.db.count("Opportunity", {"name": ("like", prefix + "-%"), "forecast_amount": -1}) == COUNT


def test_turning_the_rule_back_on_recomputes(many_opportunities):
	set_forecast_settings(forecast_enabled=0)
	frappe.db.commit()
	_drop_job()
	set_forecast_settings(forecast_enabled=1)
	frappe.db.commit()
	assert is_job_enqueued(_current_job_id())
	_drop_job()
	recompute_all_forecasts(publish=False)
	assert _wrong_rows(many_opportunities, "amount * probability / 100") == 0


def test_a_row_saved_since_it_was_read_is_not_overwritten():
	"""The batch UPDATE writes only rows whose `modified` is still the one it read."""
	from opportunity_suite.services.recompute import _write_batch
	from tests.factories import make_opportunity

	opp = make_opportunity(amount=1000, probability=20)
	stale = "2000-01-01 00:00:00.000000"
	assert _write_batch([(opp.name, stale, 1.0, 1.0)]) == 0
	assert frappe.db.get_value("Opportunity", opp.name, "forecast_amount") == 200
	assert _write_batch([(opp.name, str(opp.modified), 7.0, 7.0)]) == 1
	assert frappe.db.get_value("Opportunity", opp.name, "forecast_amount") == 7
