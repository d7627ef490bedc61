"""The production stack as scripts/setup runs it (scripts/production.sh: nginx in front of gunicorn and
socketio, RQ workers, the scheduler, under supervisor), here for the test site on free ports: a person
logs in through nginx, opens the list, and watches an import's progress arrive through socketio behind
the proxy; nginx serves the assets itself (cached, gzipped) and takes a 100 MB upload's size; a killed
gunicorn master or long-queue worker is started again by supervisor."""

import os
import signal
import time
import urllib.request

import frappe
import pytest
from frappe.utils import add_days, today

from opportunity_suite.services.importing import jobs
from tests.conftest import BENCH_DIR, SITE
from tests.factories import unique
from tests.import_fixtures import IMPORT, cleanup, csv_bytes, new_import  # noqa: F401 (a fixture)
from tests.production_stack import Stack

pytestmark = [pytest.mark.browser, pytest.mark.production]

ROWS = 2_600  # two batches of the runner (2,500 rows each): a progress message on the way


@pytest.fixture(scope="module")
def stack():
	from frappe.utils.background_jobs import get_queue

	# jobs earlier tests left queued (they run theirs by hand) must not run on these workers
	for queue in ("short", "default", "long"):
		get_queue(queue).empty()
	production = Stack(BENCH_DIR, SITE)
	try:
		production.up()
		yield production
	finally:
		production.down()


def _get(url: str, headers: dict | None = None):
	request = urllib.request.Request(url, headers=headers or {})
	try:
		with urllib.request.urlopen(request, timeout=30) as response:
			return response.status, dict(response.headers), response.read()
	except urllib.error.HTTPError as error:
		return error.code, dict(error.headers), error.read()


def _ping(url: str) -> bool:
	try:
		return _get(f"{url}/api/method/ping")[0] == 200
	except OSError:
		return False


def _wait(condition, seconds: float, what: str):
	deadline = time.monotonic() + seconds
	while time.monotonic() < deadline:
		if condition():
			return
		time.sleep(0.3)
	raise AssertionError(f"{what} not within {seconds} s")


@pytest.fixture
def production_desk(browser, stack, request):
	context = browser.new_context(base_url=stack.url, viewport={"width": 1400, "height": 900})
	page = context.new_page()
	page.set_default_timeout(30_000)
	yield page
	from tests.browser_helpers import screenshot

	screenshot(page, request.node.name)
	context.close()


def test_login_list_and_an_imports_progress_through_the_proxy(production_desk, stack, cleanup):  # noqa: F811
	page = production_desk
	tag = unique("Prod import").replace(" ", "-")
	close = add_days(today(), 30)
	rows = [["Opportunity Name", "Amount", "Sales Stage", "Expected Close Date"]]
	rows += [[f"{tag} {i:05d}", str(100 + i), "Qualification", close] for i in range(ROWS)]
	doc = new_import(cleanup, csv_bytes(rows))
	jobs.prepare(doc)
	doc.save()
	frappe.db.commit()

	# log in through nginx, as a person
	page.goto("/login")
	page.fill("#login_email", "Administrator")
	page.fill("#login_password", os.environ.get("OS_ADMIN_PASSWORD", "admin"))
	page.click(".btn-login")
	page.wait_for_url("**/app**")

	# the list, through gunicorn
	page.goto("/app/opportunity")
	page.wait_for_function(
		"() => window.cur_list && cur_list.doctype === 'Opportunity' && cur_list.data && !frappe.request.ajax_count"
	)
	# the page's socket reached socketio through nginx's /socket.io (no port of its own in production)
	page.wait_for_function("() => frappe.realtime.socket && frappe.realtime.socket.connected")
	assert page.evaluate("() => frappe.realtime.socket.io.uri").startswith(stack.url)

	# the import, started in its form, runs on the production long worker; its progress comes by socketio
	page.goto(f"/app/opportunity-import/{doc.name}")
	page.wait_for_function("() => cur_frm && cur_frm.doc.name && frappe.realtime.socket.connected")
	page.evaluate(
		"""() => {
			window.__progress = [];
			frappe.realtime.on("opportunity_import_progress", (data) => window.__progress.push(data));
		}"""
	)
	page.locator(".page-actions button", has_text="Start Import").click()
	page.locator(".page-head .indicator-pill", has_text="Completed").wait_for(timeout=180_000)
	progress = page.evaluate("window.__progress")
	assert len(progress) >= 2, progress  # the half-way batch and the end, pushed as they happened
	frappe.db.rollback()
	assert frappe.db.get_value(IMPORT, doc.name, "status") == "Completed"
	assert frappe.db.count("Opportunity", {"opportunity_name": ("like", f"{tag}%")}) == ROWS


def test_nginx_serves_assets_cached_and_gzipped_and_takes_an_import_sized_upload(stack):
	status, _headers, body = _get(f"{stack.url}/login")
	assert status == 200
	asset = body.decode().split('src="/assets/frappe/dist/js/', 1)[1].split('"', 1)[0]
	status, headers, _body = _get(f"{stack.url}/assets/frappe/dist/js/{asset}", {"Accept-Encoding": "gzip"})
	assert status == 200
	assert headers.get("Content-Encoding") == "gzip"
	assert "max-age=31536000" in headers.get("Cache-Control", "")
	# 100 MB passes nginx's limit and reaches Frappe (which asks for a login); one byte more than the
	# limit does not: the limit is nginx's, not a default 1 MB
	max_mb = 110
	for size, expected in ((100 * 2**20, 403), ((max_mb * 2**20) + 1, 413)):
		request = urllib.request.Request(
			f"{stack.url}/api/method/upload_file",
			data=_Zeros(size),
			headers={"Content-Type": "application/octet-stream", "Content-Length": str(size)},
			method="POST",
		)
		try:
			with urllib.request.urlopen(request, timeout=120) as response:
				status = response.status
		except urllib.error.HTTPError as error:
			status = error.code
		except (ConnectionResetError, BrokenPipeError):
			status = 413  # nginx answered 413 and closed while the body was still being sent
		assert status == expected, (size, status)


class _Zeros:
	"""A request body of `size` zero bytes, streamed in chunks (never 100 MB in memory)."""

	def __init__(self, size: int):
		self.size = size

	def __len__(self):
		return self.size

	def __iter__(self):
		left = self.size
		chunk = b"\0" * 2**20
		while left > 0:
			yield chunk[: min(left, len(chunk))]
			left -= len(chunk)


def test_a_killed_gunicorn_master_comes_back(stack):
	old = stack.pid("web")
	assert old and _ping(stack.url)
	os.kill(old, signal.SIGKILL)
	new = stack.wait_for_new_pid("web", old)
	assert new != old
	_wait(lambda: _ping(stack.url), 90, "nginx answering through the new gunicorn")


def test_a_killed_long_worker_comes_back_and_runs_long_jobs(stack):
	old = stack.pid("worker-long-0")
	assert old
	os.kill(old, signal.SIGKILL)
	stack.wait_for_new_pid("worker-long-0", old)
	# only the long worker listens to `long`: a job there finishing proves the new one works
	job = frappe.enqueue("frappe.ping", queue="long")
	_wait(lambda: job.get_status(refresh=True) in ("finished", "failed"), 90, "a long-queue job run")
	assert job.get_status() == "finished"


def test_stopping_leaves_nothing_listening(stack):
	stack.down()
	assert not _ping(stack.url)
	assert stack.pid("web") == 0
	assert stack.supervisorctl("status", f"{stack.group}:*").returncode != 0
