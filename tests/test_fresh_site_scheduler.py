"""A freshly set-up product site runs its scheduled jobs at once: the site is made by the scripts' own
`ensure_product_site` (new site, install, first-run setup in the machine's time zone, outgoing e-mail from
OS_SMTP_*, scheduler on), then the real `bench schedule` and a `bench worker` run, and with no direct job
call an alert e-mail queued on the site reaches a real SMTP server and a stalled import is resumed.

Before the repair, the install (in Asia/Kolkata) left every Scheduled Job Type's next run 5½ h ahead of a
UTC site's clock, and nothing ran. The site gets `scheduler_interval` 60 (Frappe's "all" jobs every minute
instead of every 4) so that the test finishes in a few minutes; the site is dropped afterwards."""

import json
import os
import subprocess
import time
from pathlib import Path

import frappe
import pytest

from tests.alerts_fixtures import smtp_sink
from tests.conftest import ARTIFACTS, BENCH_DIR
from tests.processes import BenchProcess

pytestmark = [pytest.mark.fresh_site, pytest.mark.slow]

APP_DIR = Path(os.environ.get("OS_APP_DIR") or Path(__file__).resolve().parents[1])
RECIPIENT = "buyer@opportunity-suite.test"


def _lib(commands: str, env: dict | None = None, timeout: int = 900) -> subprocess.CompletedProcess:
	"""`commands` in bash with the scripts' lib.sh loaded and the MariaDB admin account known."""
	script = f'source "{APP_DIR}/scripts/lib.sh"; ensure_db_admin; {commands}'
	return subprocess.run(
		["bash", "-c", script],
		env={**os.environ, "OS_BENCH_DIR": str(BENCH_DIR), **(env or {})},
		capture_output=True,
		text=True,
		timeout=timeout,
	)


# a step of tests/fresh_site_steps.py on `site`, in a process of its own (`bench execute` can't reach this
# checkout's `tests`: another package of the bench's Python owns that name)
_STEP = """
import json, sys
sys.path.insert(0, sys.argv[1])
import frappe
frappe.init(site=sys.argv[2], sites_path=".")
frappe.connect()
from tests import fresh_site_steps
print(json.dumps(getattr(fresh_site_steps, sys.argv[3])(**json.loads(sys.argv[4])), default=str))
frappe.destroy()
"""


def _execute(site: str, method: str, **kwargs):
	python = str(BENCH_DIR / "env" / "bin" / "python")
	result = subprocess.run(
		[python, "-c", _STEP, str(APP_DIR), site, method, json.dumps(kwargs)],
		cwd=BENCH_DIR / "sites",
		capture_output=True,
		text=True,
		timeout=180,
	)
	assert result.returncode == 0, result.stdout + result.stderr
	return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture
def fresh_site():
	site = f"fresh-{frappe.generate_hash(length=6).lower()}.localhost"
	sink = smtp_sink()
	port, mailbox = next(sink)
	try:
		env = {
			"OS_SMTP_HOST": "127.0.0.1",
			"OS_SMTP_PORT": str(port),
			"OS_MAIL_FROM": "crm@opportunity-suite.test",
		}
		made = _lib(f'ensure_product_site "{site}"', env)
		assert made.returncode == 0, made.stdout + made.stderr
		config = subprocess.run(
			["bench", "--site", site, "set-config", "scheduler_interval", "60", "--parse"], cwd=BENCH_DIR
		)
		assert config.returncode == 0
		yield site, mailbox
	finally:
		_lib(
			f'bench_do drop-site "{site}" --force --no-backup --root-login "$DB_ROOT_USER" '
			'--root-password "$DB_ROOT_PASSWORD" >/dev/null 2>&1 || true'
		)
		sink.close()


def test_a_fresh_site_sends_queued_alert_email_and_resumes_a_stalled_import(fresh_site):
	site, mailbox = fresh_site
	queued = _execute(site, "queue_hot_deal_email", address=RECIPIENT)
	# the save fired the rule; the e-mail is rendered and queued by a worker, not in the save's request
	assert (queued["fired"], queued["queued"]) == (["Fired"], [])
	stalled = _execute(site, "stall_an_import", tag="Fresh " + frappe.generate_hash(length=5))
	before = _execute(site, "state", import_name=stalled, opportunity=queued["opportunity"])
	assert before["future_jobs"] == 0, before  # no scheduled job waits for a clock hours ahead
	assert before["import"]["status"] == "Running"

	# a worker per kind of queue, as in production: on one worker the `long` queue (the resumed import)
	# waits until `short` and `default` are empty, which a busy machine's scheduler may never let happen
	processes = [
		BenchProcess("fresh-scheduler", ["bench", "schedule"], BENCH_DIR, ARTIFACTS),
		BenchProcess("fresh-worker", ["bench", "worker", "--queue", "short,default"], BENCH_DIR, ARTIFACTS),
		BenchProcess("fresh-long-worker", ["bench", "worker", "--queue", "long"], BENCH_DIR, ARTIFACTS),
	]
	try:
		deadline = time.monotonic() + 330
		state = before
		while time.monotonic() < deadline:
			delivered = any(RECIPIENT in m["to"] for m in mailbox.messages)
			if delivered and state["import"]["status"] == "Completed":
				break
			time.sleep(5)
			state = _execute(site, "state", import_name=stalled, opportunity=queued["opportunity"])
	finally:
		for process in processes:
			process.stop()
	delivered = [m for m in mailbox.messages if RECIPIENT in m["to"]]
	if len(delivered) != 1 or state["import"]["status"] != "Completed":
		diagnosis = _execute(site, "diagnose", opportunity=queued["opportunity"])
		pytest.fail(
			f"delivered {len(delivered)} of 1 e-mail (mailbox: {mailbox.messages!r:.500}); state {state}; "
			f"site: {json.dumps(diagnosis, default=str, indent=1)}"
		)
	[message] = delivered
	assert message["message"]["Subject"] == "Hot deal Fresh site deal"
	assert state["email"] == ["Sent"], state
	assert state["import"] == {"status": "Completed", "rows_read": 50, "created_count": 50}, state
