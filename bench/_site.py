"""Connect a benchmark to a real site of the bench, the way tests/conftest.py does.

Run benchmarks with the bench's Python, e.g.
	~/opportunity-suite-bench/env/bin/python bench/recompute.py
Environment: OS_BENCH_DIR (default ~/opportunity-suite-bench), OS_BENCH_SITE (default the test site)."""

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # for tests.factories

BENCH_DIR = Path(os.environ.get("OS_BENCH_DIR", Path.home() / "opportunity-suite-bench")).expanduser()
SITE = os.environ.get("OS_BENCH_SITE") or os.environ.get("OS_TEST_SITE", "test.opportunity.localhost")


def connect():
	import frappe

	os.chdir(BENCH_DIR / "sites")
	frappe.init(site=SITE, sites_path=str(BENCH_DIR / "sites"))
	frappe.connect()
	frappe.set_user("Administrator")
	return frappe


def set_visibility(value: str | None) -> str | None:
	"""Set Opportunity Settings' visibility (None: leave it) and return the old value, for a benchmark's
	private-visibility pass (None when the site has no such setting)."""
	import frappe

	from opportunity_suite.services.visibility import SETTINGS

	if not frappe.get_meta(SETTINGS).has_field("visibility"):
		return None
	old = frappe.db.get_single_value(SETTINGS, "visibility")
	if value is not None:
		frappe.db.set_single_value(SETTINGS, "visibility", value)
		frappe.db.commit()
		frappe.clear_cache()
	frappe.local.opportunity_suite_visibility = None  # the request-local cache of it
	return old
