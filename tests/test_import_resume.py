# ruff: noqa: F811 (the cleanup fixture is imported, then used as an argument)
"""Resume after a killed worker, for real: a `bench worker` subprocess runs the import on the `long`
queue, is killed with SIGKILL mid-run, and the scheduler watchdog (and the Resume method) continue it
from the last committed batch without a duplicate or a lost row."""

import time

import frappe
import pytest
from frappe.utils import add_to_date, now_datetime

from opportunity_suite.services.importing import jobs
from tests.conftest import ARTIFACTS, BENCH_DIR
from tests.factories import unique
from tests.import_fixtures import IMPORT, cleanup, csv_bytes, make_import, prepare  # noqa: F401
from tests.processes import BenchProcess

ROWS = 30_000


def _worker(burst: bool = False) -> BenchProcess:
	return BenchProcess(
		"import-worker",
		["bench", "worker", "--queue", "long", *(["--burst"] if burst else [])],
		BENCH_DIR,
		ARTIFACTS,
	)


def _state(name):
	frappe.db.rollback()  # a fresh snapshot
	return frappe.db.get_value(
		IMPORT,
		name,
		["status", "checkpoint", "rows_read", "created_count", "failed_count", "error"],
		as_dict=True,
	)


def _wait(name, condition, seconds=180):
	deadline = time.monotonic() + seconds
	while time.monotonic() < deadline:
		state = _state(name)
		if condition(state):
			return state
		time.sleep(0.05)
	raise AssertionError(f"timed out; last state {state}")


@pytest.mark.slow
def test_killed_worker_is_resumed_without_duplicates_or_losses(cleanup):
	tag = unique("Kill")
	rows = [["Opportunity Name", "Amount", "Sales Stage", "Expected Close Date"]]
	rows += [[f"{tag} {i}", str(i), "Prospecting", "2026-12-31"] for i in range(ROWS)]
	doc = make_import(csv_bytes(rows))
	cleanup["imports"].append(doc.name)
	prepare(doc)
	jobs.start(doc)
	frappe.db.commit()  # the job is queued after the commit

	worker = _worker()
	try:
		_wait(doc.name, lambda s: s.status == "Running" and (s.checkpoint or 0) > 1 and s.rows_read < ROWS)
		worker.kill()  # the worker and its work horse, mid-run
	finally:
		if worker.running():
			worker.kill()
	time.sleep(1)
	killed = _state(doc.name)
	assert killed.status == "Running" and killed.rows_read < ROWS, killed
	assert not jobs.job_is_alive(doc.name)
	done_before = killed.rows_read
	assert done_before == killed.checkpoint - 1  # counts and checkpoint committed together

	# the watchdog picks it up once its heartbeat is old
	frappe.db.set_value(
		IMPORT, doc.name, "heartbeat", add_to_date(now_datetime(), minutes=-10), update_modified=False
	)
	frappe.db.commit()
	jobs.resume_stalled_imports()
	assert _state(doc.name).status == "Queued"

	worker = _worker(burst=True)
	try:
		final = _wait(doc.name, lambda s: s.status not in ("Queued", "Running"), seconds=300)
	finally:
		if worker.running():
			worker.kill()
	assert final.status == "Completed", final
	assert (final.rows_read, final.created_count, final.failed_count) == (ROWS, ROWS, 0)
	names = frappe.get_all(
		"Opportunity", filters={"opportunity_name": ("like", f"{tag} %")}, pluck="opportunity_name"
	)
	assert len(names) == ROWS and len(set(names)) == ROWS
	assert frappe.db.count("Opportunity Import Batch", {"import_run": doc.name}) >= 2


def test_resume_refuses_a_finished_or_live_run(cleanup):
	doc = make_import(csv_bytes([["Opportunity Name"], ["x"]]))
	cleanup["imports"].append(doc.name)
	from opportunity_suite.api.importing import resume_import

	with pytest.raises(jobs.ImportStateError):
		resume_import(doc.name)  # Pending
	prepare(doc)
	frappe.db.set_value(IMPORT, doc.name, "status", "Running")
	# Running with no job: resumable (queued after commit; rolled back here)
	assert resume_import(doc.name)["job_id"] == jobs.job_id(doc.name)
	frappe.db.rollback()


def test_resume_denied_without_import_rights(cleanup):
	from opportunity_suite.api.importing import resume_import
	from tests.factories import make_user

	doc = make_import(csv_bytes([["Opportunity Name"], ["x"]]))
	cleanup["imports"].append(doc.name)
	frappe.set_user(make_user("Sales User"))
	with pytest.raises(frappe.PermissionError):
		resume_import(doc.name)
