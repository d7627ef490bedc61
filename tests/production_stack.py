"""The production stack of scripts/setup (nginx → gunicorn and socketio, RQ workers, the scheduler, under
supervisor), started for the test site on free ports by the scripts' own functions (scripts/production.sh),
so that tests (and bench/load.py) reach the product the way its users do."""

import os
import socket
import subprocess
import time
from pathlib import Path

APP_DIR = Path(os.environ.get("OS_APP_DIR") or Path(__file__).resolve().parents[1])


def scripts(commands: str, bench_dir: Path, env: dict | None = None, timeout: int = 600):
	"""`commands` in bash with lib.sh and production.sh loaded (and the MariaDB admin account known)."""
	script = f'source "{APP_DIR}/scripts/lib.sh"; source "{APP_DIR}/scripts/production.sh"; {commands}'
	return subprocess.run(
		["bash", "-c", script],
		env={**os.environ, "OS_BENCH_DIR": str(bench_dir), **(env or {})},
		capture_output=True,
		text=True,
		timeout=timeout,
	)


def free_ports(count: int) -> list[int]:
	sockets = [socket.socket() for _ in range(count)]
	try:
		for s in sockets:
			s.bind(("127.0.0.1", 0))
		return [s.getsockname()[1] for s in sockets]
	finally:
		for s in sockets:
			s.close()


class Stack:
	"""The stack for `site` of `bench_dir` on free ports: `up()`, `down()`, `pid(program)` as supervisor
	knows it (program: web, socketio, schedule, worker-short, worker-long-0, nginx)."""

	def __init__(
		self,
		bench_dir: Path,
		site: str,
		gunicorn_workers: int | None = None,
		gunicorn_threads: int | None = None,
		env: dict | None = None,
	):
		self.bench_dir, self.site = bench_dir, site
		port, gunicorn_port, socketio_port = free_ports(3)
		self.env = {
			"OS_PORT": str(port),
			"OS_GUNICORN_PORT": str(gunicorn_port),
			"OS_SOCKETIO_PORT": str(socketio_port),
		}
		if gunicorn_workers:
			self.env["OS_GUNICORN_WORKERS"] = str(gunicorn_workers)
		if gunicorn_threads:
			self.env["OS_GUNICORN_THREADS"] = str(gunicorn_threads)
		self.env.update(env or {})
		self.url = f"http://127.0.0.1:{port}"
		self.group = self._run(f'production_group "{site}"').strip()
		self.running = False

	def _run(self, commands: str, timeout: int = 600) -> str:
		result = scripts(commands, self.bench_dir, self.env, timeout)
		assert result.returncode == 0, result.stdout + result.stderr
		return result.stdout

	def up(self) -> str:
		site = self.site
		self.running = True
		return self._run(
			f'ensure_db_admin; production_site_settings "{site}"; production_up "{site}"; production_status "{site}"'
		)

	def down(self):
		if self.running:
			self._run(f'production_down "{self.site}"')
			self.running = False

	def supervisorctl(self, *args: str) -> subprocess.CompletedProcess:
		return subprocess.run(
			["supervisorctl", "-c", "/etc/supervisor/supervisord.conf", *args], capture_output=True, text=True
		)

	def pid(self, program: str) -> int:
		"""The pid supervisor runs `program` as, 0 while it is not running."""
		out = self.supervisorctl("pid", f"{self.group}:{self.group}-{program}").stdout.strip()
		return int(out) if out.isdigit() else 0

	def wait_for_new_pid(self, program: str, old: int, seconds: float = 90) -> int:
		deadline = time.monotonic() + seconds
		while time.monotonic() < deadline:
			pid = self.pid(program)
			if pid and pid != old:
				return pid
			time.sleep(0.2)
		raise AssertionError(f"supervisor did not start {program} again within {seconds} s")
