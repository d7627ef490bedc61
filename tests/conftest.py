"""Pytest against a real Frappe site: scripts/test runs us from the bench's sites/ folder with
OS_BENCH_DIR and OS_TEST_SITE set. Each test runs in a transaction rolled back afterwards; tests that
must commit (background jobs, the browser) clean up what they made."""

import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import frappe
import pytest

from tests.processes import BenchProcess

BENCH_DIR = Path(os.environ.get("OS_BENCH_DIR", Path.home() / "opportunity-suite-bench")).expanduser()
SITE = os.environ.get("OS_TEST_SITE", "test.opportunity.localhost")
SITES_PATH = BENCH_DIR / "sites"
ARTIFACTS = Path(os.environ.get("OS_TEST_ARTIFACTS", BENCH_DIR / "test-artifacts"))


def _connect():
	os.chdir(SITES_PATH)  # Frappe writes its logs to ../logs relative to sites/
	frappe.init(site=SITE, sites_path=str(SITES_PATH))
	frappe.connect()
	frappe.set_user("Administrator")
	frappe.flags.in_test = True


def pytest_configure(config):
	_connect()


def pytest_unconfigure(config):
	if getattr(frappe.local, "db", None):
		frappe.db.rollback()
		_forget_search_entries_of_rolled_back_records()
	frappe.destroy()


def _forget_search_entries_of_rolled_back_records():
	"""`__global_search` is MyISAM: it keeps what tests wrote in transactions rolled back afterwards
	(the importer writes search rows on a connection of its own). Remove the entries whose record
	does not exist, so that they don't pile up run after run."""
	for doctype in ("Opportunity", "Organization", "Contact"):
		frappe.db.sql(
			f"""DELETE g FROM `__global_search` g LEFT JOIN `tab{doctype}` t ON t.name = g.name
			WHERE g.doctype = %s AND t.name IS NULL""",
			doctype,
		)
	frappe.db.commit()


@pytest.fixture(scope="session")
def outgoing_mail():
	"""Frappe sends some notifications at once under tests (assignment emails...): give it a real SMTP
	server on loopback and a default outgoing Email Account for the whole session."""
	from tests.alerts_fixtures import clear_email_account_cache, make_email_account, smtp_sink

	sink = smtp_sink()
	port, _mailbox = next(sink)
	account = make_email_account(port)
	frappe.db.commit()
	yield account
	frappe.db.rollback()
	# the mails committed tests queued through it (never sent: mails are muted) go with the account
	queued = frappe.get_all("Email Queue", filters={"email_account": account}, pluck="name")
	for start in range(0, len(queued), 1000):
		frappe.db.delete("Email Queue Recipient", {"parent": ("in", queued[start : start + 1000])})
		frappe.db.delete("Email Queue", {"name": ("in", queued[start : start + 1000])})
	frappe.delete_doc("Email Account", account, force=True, ignore_permissions=True)
	frappe.db.commit()
	clear_email_account_cache()
	sink.close()


def _keep_default_outgoing(account: str):
	"""A test that made its own default account and deleted it leaves none: make ours the default again."""
	if not frappe.db.exists("Email Account", {"default_outgoing": 1, "enable_outgoing": 1}):
		from tests.alerts_fixtures import clear_email_account_cache

		frappe.db.set_value("Email Account", account, "default_outgoing", 1)
		frappe.db.commit()
		clear_email_account_cache()


@pytest.fixture(autouse=True)
def _transaction(outgoing_mail):
	"""Every test starts as Administrator in a fresh transaction that is rolled back afterwards."""
	frappe.db.rollback()
	frappe.set_user("Administrator")
	frappe.local.opportunity_suite_forecast = None
	_keep_default_outgoing(outgoing_mail)
	# as Frappe's own test runner: mails become Email Queue rows and are not sent inline, where Frappe's
	# sending would commit the test's transaction; the SMTP end-to-end test turns sending back on
	frappe.flags.mute_emails = True
	yield
	frappe.db.rollback()
	frappe.set_user("Administrator")
	frappe.local.opportunity_suite_forecast = None


# ---------------------------------------------------------------- the desk in a real browser


def _free_port() -> int:
	with socket.socket() as s:
		s.bind(("127.0.0.1", 0))
		return s.getsockname()[1]


def _wait_for(url: str, seconds: float = 90):
	deadline = time.monotonic() + seconds
	while time.monotonic() < deadline:
		try:
			with urllib.request.urlopen(url, timeout=5) as response:
				if response.status < 500:
					return
		except Exception:
			time.sleep(0.5)
	raise RuntimeError(f"{url} did not answer within {seconds} s")


def _wait_for_port(port: int, seconds: float = 60):
	deadline = time.monotonic() + seconds
	while time.monotonic() < deadline:
		with socket.socket() as s:
			if s.connect_ex(("127.0.0.1", port)) == 0:
				return
		time.sleep(0.3)
	raise RuntimeError(f"nothing listens on port {port} after {seconds} s")


def _Process(name: str, args: list[str], env: dict | None = None) -> BenchProcess:
	"""A bench process of the test bench, logged to the artifacts folder."""
	return BenchProcess(name, args, BENCH_DIR, ARTIFACTS, env)


@pytest.fixture(scope="session")
def realtime():
	"""Frappe's socketio server for the test site on a free port (the desk's progress bars and live
	updates); the test site's config points the desk at it."""
	port = _free_port()
	subprocess.run(
		["bench", "--site", SITE, "set-config", "-p", "socketio_port", str(port)], cwd=BENCH_DIR, check=True
	)
	process = _Process(
		"socketio",
		["node", "apps/frappe/socketio.js"],
		env={"FRAPPE_SOCKETIO_PORT": str(port), "FRAPPE_SITE": SITE},
	)
	try:
		_wait_for_port(port)
		yield port
	finally:
		process.stop()


@pytest.fixture
def worker():
	"""A background worker (all queues) for the test bench, as `bench start` runs it, for one test only:
	a worker left running would pick up the jobs that later tests enqueue and run by hand."""
	process = _Process("worker", ["bench", "worker"])
	time.sleep(3)
	try:
		yield process
	finally:
		process.stop()


@pytest.fixture(scope="session")
def web_server(realtime):
	"""The test site served by `bench serve` on a free port (OS_TEST_WEB_PORT to choose one)."""
	port = int(os.environ.get("OS_TEST_WEB_PORT") or _free_port())
	# DEV_SERVER makes the desk reach socketio on its own port, as under `bench start`
	process = _Process(
		"web", ["bench", "--site", SITE, "serve", "--port", str(port), "--noreload"], env={"DEV_SERVER": "1"}
	)
	base_url = f"http://127.0.0.1:{port}"
	try:
		_wait_for(f"{base_url}/api/method/ping")
		yield base_url
	finally:
		process.stop()


@pytest.fixture(scope="session")
def browser():
	from playwright.sync_api import sync_playwright

	with sync_playwright() as p:
		browser = p.chromium.launch(
			executable_path=os.environ.get("OS_CHROMIUM", "/usr/bin/chromium"),
			headless=True,
			args=[
				"--no-sandbox",
				"--disable-gpu",
				"--disable-quic",
				"--no-first-run",
				"--disable-background-networking",
				"--disable-component-update",
				"--disable-sync",
			],
		)
		yield browser
		browser.close()


def _log_in(context):
	"""Log in as Administrator through the login page, as a person does."""
	page = context.new_page()
	page.set_default_timeout(30_000)
	page.goto("/login")
	page.fill("#login_email", "Administrator")
	page.fill("#login_password", os.environ.get("OS_ADMIN_PASSWORD", "admin"))
	page.click(".btn-login")
	page.wait_for_url("**/app**")
	page.close()


@pytest.fixture(scope="session")
def desk_session(browser, web_server):
	"""One login for the session: each test's browser context starts with its cookies (logging in again
	and loading the desk's home for every test cost seconds each on the 2-core machine)."""
	context = browser.new_context(base_url=web_server)
	_log_in(context)
	state = context.storage_state()
	context.close()
	return state


@pytest.fixture
def desk(browser, web_server, desk_session, request):
	"""A logged-in desk page as Administrator, in a browser context of its own; a screenshot of its last
	state is saved as a test artifact."""
	context = browser.new_context(
		base_url=web_server, viewport={"width": 1400, "height": 900}, storage_state=desk_session
	)
	if not context.request.get("/api/method/frappe.auth.get_logged_user").ok:  # the session is gone
		_log_in(context)
	page = context.new_page()
	page.set_default_timeout(30_000)
	yield page
	ARTIFACTS.mkdir(parents=True, exist_ok=True)
	page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
	context.close()
