"""In a real browser: a Sales Manager changes the forecast formula and the desk shows the background
recompute's progress, run by a real worker, reported through socketio."""

import frappe
import pytest

from opportunity_suite.services.forecast import DEFAULT_FORMULA
from tests.factories import bulk_make_opportunities, delete_bulk_opportunities, set_forecast_settings

pytestmark = pytest.mark.browser


@pytest.fixture
def rows():
	prefix = "BRW" + frappe.generate_hash(length=5).upper()
	bulk_make_opportunities(20_000, prefix)
	yield prefix
	delete_bulk_opportunities(prefix)
	set_forecast_settings(forecast_formula=DEFAULT_FORMULA)
	frappe.db.commit()


def test_changing_the_formula_recomputes_in_the_background_with_progress(desk, worker, rows):
	# jobs earlier tests left queued (imports, notifications) would run first on this one worker
	from frappe.utils.background_jobs import get_queue

	get_queue("long").empty()
	desk.goto("/app/opportunity-settings")
	desk.wait_for_function("frappe.realtime.socket && frappe.realtime.socket.connected")
	desk.evaluate("window.__progress = []; frappe.realtime.on('progress', (d) => window.__progress.push(d))")
	formula = desk.locator(".frappe-control[data-fieldname='forecast_formula'] input:visible")
	formula.fill("amount * probability / 100 + 3")
	desk.keyboard.press("Control+s")
	desk.wait_for_function("window.__progress.some((d) => d.percent >= 100)", timeout=120_000)
	events = desk.evaluate("window.__progress")
	assert events[0]["title"] == "Recomputing forecast amounts"
	assert [e["percent"] for e in events] == sorted(e["percent"] for e in events)

	frappe.db.rollback()
	assert frappe.db.get_value("Opportunity", f"{rows}-0000010", "forecast_amount") == 10 * 10 / 100 + 3
	assert frappe.db.get_single_value("Opportunity Settings", "last_recompute_status") == "Completed"
