"""A recompute survives a killed worker, for real: a `bench worker` subprocess runs it on the `long` queue
and is killed with SIGKILL mid-run. The settings then say Interrupted (not Running, not Completed); a
newer formula is not turned away by the dead job's id; the scheduler's watchdog resumes the run from its
checkpoint."""

import time

import frappe
import pytest
from frappe.utils import add_to_date, now_datetime
from frappe.utils.background_jobs import get_queue, is_job_enqueued

from opportunity_suite.services import recompute
from opportunity_suite.services.forecast import DEFAULT_FORMULA
from tests.conftest import ARTIFACTS, BENCH_DIR
from tests.factories import (
	bulk_make_opportunities,
	delete_bulk_opportunities,
	make_user,
	set_forecast_settings,
)
from tests.processes import BenchProcess

COUNT = 10_000
FORMULA_A = "amount * probability / 100 + 1"


@pytest.fixture
def rows():
	get_queue("long").empty()  # jobs earlier tests left queued would run first on our worker
	prefix = "RRS" + frappe.generate_hash(length=5).upper()
	bulk_make_opportunities(COUNT, prefix)
	yield prefix
	frappe.db.rollback()
	delete_bulk_opportunities(prefix)
	set_forecast_settings(forecast_formula=DEFAULT_FORMULA, forecast_enabled=1)
	frappe.db.commit()
	get_queue("long").empty()
	recompute._set_state({"last_recompute_status": "Completed", "recompute_token": ""})
	frappe.db.commit()


def _worker(burst: bool = False) -> BenchProcess:
	return BenchProcess(
		"recompute-worker",
		["bench", "worker", "--queue", "long", *(["--burst"] if burst else [])],
		BENCH_DIR,
		ARTIFACTS,
	)


def _state() -> frappe._dict:
	frappe.db.rollback()  # a fresh snapshot
	return recompute.read_state()


def _wait(condition, seconds=180) -> frappe._dict:
	deadline = time.monotonic() + seconds
	while time.monotonic() < deadline:
		state = _state()
		if condition(state):
			return state
		time.sleep(0.05)
	raise AssertionError(f"timed out; last state {state}")


def _wrong_rows(prefix: str, sql_formula: str) -> int:
	return frappe.db.sql(
		f"""select count(*) from `tabOpportunity` where name like %s
		and (forecast_amount <> round({sql_formula}, 2) or base_forecast_amount <> forecast_amount)""",
		(prefix + "-%",),
	)[0][0]


def _status_the_settings_form_shows(user: str) -> str:
	"""What the desk's form and REST show the user (each reads the settings document)."""
	from frappe.client import get as rest_get
	from frappe.desk.form.load import getdoc

	frappe.set_user(user)
	try:
		frappe.response.docs = []
		getdoc("Opportunity Settings", "Opportunity Settings")
		shown = frappe.response.docs[0].last_recompute_status
		assert rest_get("Opportunity Settings")["last_recompute_status"] == shown
		return shown
	finally:
		frappe.set_user("Administrator")


def _start_and_kill_mid_run(prefix: str) -> frappe._dict:
	"""A run of formula A in small batches, its worker killed once it is well under way."""
	frappe.db.set_single_value("Opportunity Settings", "forecast_formula", FORMULA_A)  # no job from the save
	recompute.enqueue_recompute(batch_size=40)
	frappe.db.commit()
	worker = _worker()
	try:
		_wait(lambda s: s.last_recompute_status == "Running" and 400 < (s.recompute_done or 0) < COUNT - 2000)
		worker.kill()  # the worker and its work horse, mid-run
	finally:
		if worker.running():
			worker.kill()
	time.sleep(1)
	killed = _state()
	assert killed.last_recompute_status == "Running" and killed.recompute_done < COUNT, killed
	# checkpoint and counts committed together: every opportunity up to the checkpoint was checked
	up_to_checkpoint = frappe.db.count("Opportunity", {"name": ("<=", killed.recompute_checkpoint)})
	assert up_to_checkpoint == killed.recompute_done
	assert not recompute.is_alive(killed)
	return killed


@pytest.mark.slow
def test_killed_recompute_shows_interrupted_and_a_newer_formula_is_not_turned_away(rows):
	killed = _start_and_kill_mid_run(rows)
	assert _wrong_rows(rows, FORMULA_A) > 0  # half done: the data sits on two formulas
	manager = make_user("Sales Manager")
	frappe.db.commit()
	assert _status_the_settings_form_shows(manager) == "Interrupted"

	# two formula changes while the dead job's record still says "started" in Redis
	set_forecast_settings(forecast_formula="amount * probability / 100 + 2")
	frappe.db.commit()
	set_forecast_settings(forecast_formula="amount * probability / 100 + 3")
	frappe.db.commit()
	queued = _state()
	assert queued.recompute_token != killed.recompute_token
	assert is_job_enqueued(recompute.job_id(queued.recompute_token))
	assert _status_the_settings_form_shows(manager) == "Queued"

	worker = _worker(burst=True)
	try:
		final = _wait(lambda s: s.last_recompute_status not in ("Queued", "Running"), seconds=240)
	finally:
		if worker.running():
			worker.kill()
	assert final.last_recompute_status == "Completed", final
	assert final.recompute_formula == "amount * probability / 100 + 3"
	assert _wrong_rows(rows, "amount * probability / 100 + 3") == 0
	assert final.recompute_done == final.recompute_total >= COUNT
	assert _status_the_settings_form_shows(manager) == "Completed"


@pytest.mark.slow
def test_the_watchdog_resumes_a_killed_recompute_from_its_checkpoint(rows):
	killed = _start_and_kill_mid_run(rows)

	recompute.resume_stalled_recompute()  # its heartbeat is recent: not yet
	assert _state().recompute_token == killed.recompute_token
	recompute._set_state({"recompute_heartbeat": add_to_date(now_datetime(), minutes=-10)})
	frappe.db.commit()
	recompute.resume_stalled_recompute()
	resumed = _state()
	assert resumed.last_recompute_status == "Queued" and resumed.recompute_token != killed.recompute_token
	assert resumed.recompute_checkpoint == killed.recompute_checkpoint
	assert is_job_enqueued(recompute.job_id(resumed.recompute_token))

	worker = _worker(burst=True)
	try:
		final = _wait(lambda s: s.last_recompute_status not in ("Queued", "Running"), seconds=240)
	finally:
		if worker.running():
			worker.kill()
	assert final.last_recompute_status == "Completed", final
	assert _wrong_rows(rows, FORMULA_A) == 0
	# it went on from the checkpoint: every opportunity checked once, each one updated once
	assert final.recompute_done == final.recompute_total
	assert final.last_recompute_rows == final.recompute_total


def test_a_save_of_the_settings_form_never_rewinds_the_run_state():
	recompute._set_state({"last_recompute_status": "Running", "recompute_checkpoint": "OPP-09999"})
	settings = frappe.get_single("Opportunity Settings")
	settings.last_recompute_status = "Completed"  # what an old copy of the form holds
	settings.recompute_checkpoint = ""
	settings.save()
	assert recompute.read_state().recompute_checkpoint == "OPP-09999"
	assert recompute.read_state().last_recompute_status == "Running"
	frappe.db.rollback()
