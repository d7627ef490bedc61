"""Run the same call at the same moment on several Frappe connections (threads), as two users would."""

import os
import threading
from collections.abc import Callable
from pathlib import Path

import frappe

SITE = os.environ.get("OS_TEST_SITE", "test.opportunity.localhost")
SITES_PATH = str(
	Path(os.environ.get("OS_BENCH_DIR", Path.home() / "opportunity-suite-bench")).expanduser() / "sites"
)


def _call_in_own_connection(call, refusal, barrier, results):
	frappe.init(site=SITE, sites_path=SITES_PATH)
	frappe.connect()
	frappe.flags.in_test = True
	frappe.set_user("Administrator")
	try:
		barrier.wait(timeout=30)
		value = call()
		frappe.db.commit()
		results.append(("converted", value))
	except refusal as e:
		frappe.db.rollback()
		results.append(("refused", str(e)))
	except Exception as e:
		frappe.db.rollback()
		results.append(("error", repr(e)))
	finally:
		frappe.destroy()


def at_once(call: Callable[[], str], refusal: type[Exception], count: int = 2) -> list[tuple[str, str]]:
	"""`call()` in `count` threads, each on its own connection, released together and committed.
	Returns ("converted", value), ("refused", message) or ("error", repr) per thread; the caller's
	transaction is rolled back afterwards so that it sees what the threads committed."""
	results: list[tuple[str, str]] = []
	barrier = threading.Barrier(count)
	threads = [
		threading.Thread(target=_call_in_own_connection, args=(call, refusal, barrier, results))
		for _ in range(count)
	]
	for thread in threads:
		thread.start()
	for thread in threads:
		thread.join(timeout=120)
	frappe.db.rollback()
	return results
