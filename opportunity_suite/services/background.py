"""Is a background job still going? For the app's resumable jobs (Opportunity Import, forecast recompute):
RQ keeps a job "started" after its worker was killed (until it notices, minutes later), so a job counts
as alive only while it is queued, or started by a worker process that still exists."""

import os
import socket


def job_is_alive(rq_job_id: str) -> bool:
	"""Is the RQ job queued, or started by a worker that still exists?"""
	from frappe.utils.background_jobs import get_job, get_redis_conn
	from rq.job import JobStatus
	from rq.worker import Worker

	job = get_job(rq_job_id)
	if not job:
		return False
	status = job.get_status()
	if status in (JobStatus.QUEUED, JobStatus.DEFERRED, JobStatus.SCHEDULED):
		return True
	if status != JobStatus.STARTED:
		return False
	worker_name = job.worker_name
	if not worker_name:
		return True
	worker = Worker.find_by_key(
		Worker.redis_worker_namespace_prefix + worker_name, connection=get_redis_conn()
	)
	if not worker:
		return False
	if worker.hostname == socket.gethostname() and worker.pid:
		try:
			os.kill(worker.pid, 0)
		except ProcessLookupError:
			return False
		except PermissionError:
			return True
	return True


def forget_job(rq_job_id: str):
	"""Remove a dead job's record from Redis (its deduplicated id would turn a new one away)."""
	from frappe.utils.background_jobs import get_job

	job = get_job(rq_job_id)
	if job:
		job.delete()
