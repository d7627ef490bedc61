"""Bench processes (web server, socketio, workers) started by the tests and the benchmarks: each in its
own process group, logged to a file, stopped for sure."""

import os
import signal
import subprocess
from pathlib import Path


def production_environment() -> dict:
	"""This process's environment without `CI`: Frappe's workers read a set `CI` as "inside Frappe's own test
	suite" (`frappe.flags.in_test` in every job, so the Email Queue marks mail Sent without talking SMTP),
	and `bench serve` turns off its reloader and debugger. The processes the tests start are the real
	machinery, run as on a user's machine, whether or not a CI service sets `CI`."""
	return {key: value for key, value in os.environ.items() if key != "CI"}


class BenchProcess:
	"""`args` run in `bench_dir` in a process group of their own, their output in `log_dir/<name>.log`."""

	def __init__(self, name: str, args: list[str], bench_dir: Path, log_dir: Path, env: dict | None = None):
		log_dir.mkdir(parents=True, exist_ok=True)
		self.log = open(log_dir / f"{name}.log", "a")
		self.process = subprocess.Popen(
			args,
			cwd=bench_dir,
			stdout=self.log,
			stderr=subprocess.STDOUT,
			start_new_session=True,
			env={**production_environment(), **(env or {})},
		)
		self.pid = self.process.pid

	def running(self) -> bool:
		return self.process.poll() is None

	def stop(self):
		"""SIGTERM, then SIGKILL for a worker still busy with a job: the process and its work horse."""
		try:
			os.killpg(self.pid, signal.SIGTERM)
			try:
				self.process.wait(timeout=15)
			except subprocess.TimeoutExpired:
				self.kill()
		except ProcessLookupError:
			pass
		self.log.close()

	def kill(self):
		"""SIGKILL the process and everything it started at once, as a crash would: RQ runs a job in a
		work horse in a session of its own, which the process group signal does not reach."""
		import psutil

		try:
			tree = psutil.Process(self.pid).children(recursive=True)
			os.killpg(self.pid, signal.SIGKILL)
		except (psutil.NoSuchProcess, ProcessLookupError):
			tree = []
		for child in tree:
			try:
				child.kill()
			except psutil.NoSuchProcess:
				pass
		self.process.wait(timeout=30)
