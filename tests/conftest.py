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
	frappe.destroy()


@pytest.fixture(autouse=True)
def _transaction():
	"""Every test starts as Administrator in a fresh transaction that is rolled back afterwards."""
	frappe.db.rollback()
	frappe.set_user("Administrator")
	frappe.local.opportunity_suite_forecast = None
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


@pytest.fixture(scope="session")
def web_server():
	"""The test site served by `bench serve` on a free port (OS_TEST_WEB_PORT to choose one)."""
	port = int(os.environ.get("OS_TEST_WEB_PORT") or _free_port())
	ARTIFACTS.mkdir(parents=True, exist_ok=True)
	log = open(ARTIFACTS / "web.log", "w")
	process = subprocess.Popen(
		["bench", "--site", SITE, "serve", "--port", str(port), "--noreload"],
		cwd=BENCH_DIR,
		stdout=log,
		stderr=subprocess.STDOUT,
		start_new_session=True,
	)
	base_url = f"http://127.0.0.1:{port}"
	try:
		_wait_for(f"{base_url}/api/method/ping")
		yield base_url
	finally:
		os.killpg(process.pid, 15)
		process.wait(timeout=30)
		log.close()


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


@pytest.fixture
def desk(browser, web_server, request):
	"""A logged-in desk page as Administrator; a screenshot is saved as a test artifact."""
	context = browser.new_context(base_url=web_server, viewport={"width": 1400, "height": 900})
	page = context.new_page()
	page.set_default_timeout(30_000)
	page.goto("/login")
	page.fill("#login_email", "Administrator")
	page.fill("#login_password", os.environ.get("OS_ADMIN_PASSWORD", "admin"))
	page.click(".btn-login")
	page.wait_for_url("**/app**")
	yield page
	ARTIFACTS.mkdir(parents=True, exist_ok=True)
	page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
	context.close()
