"""In a real browser at 1440×900: the Opportunity list reads at a glance (no cut amount or date, Status
shows the status, Stage the stage) and a quick entry shows at the top of the list without a reload."""

import frappe
import pytest
from frappe.utils import add_days, today

from tests.browser_helpers import pick_link, screenshot, type_number
from tests.factories import unique

pytestmark = pytest.mark.browser

# every cell of a row as a person sees it: its text, and whether the text fits (not cut by an ellipsis)
CELLS = """(name) => {
	const row = document.querySelector(`.list-row-checkbox[data-name="${name}"]`).closest(".list-row");
	return [...row.querySelectorAll(".level-left .list-row-col")]
		.filter((c) => c.offsetParent !== null)
		.map((c) => ({ text: c.innerText.trim(), fits: c.scrollWidth <= c.clientWidth }));
}"""
HEADERS = """() => [...document.querySelectorAll(".list-row-head .level-left .list-row-col")]
	.filter((c) => c.offsetParent !== null).map((c) => c.innerText.trim())"""
FORMATTED = """([name, fieldname]) => {
	const doc = cur_list.data.find((d) => d.name === name);
	const df = frappe.meta.get_docfield("Opportunity", fieldname);
	return $("<div>").html(frappe.format(doc[fieldname], df, null, doc)).text().trim();
}"""


@pytest.fixture
def committed():
	made: list[str] = []

	def make(**values):
		doc = frappe.get_doc(
			{"doctype": "Opportunity", "opportunity_name": unique("List deal"), **values}
		).insert()
		frappe.db.commit()
		made.append(doc.name)
		return doc

	make.track = made.append
	yield make
	frappe.db.rollback()
	for name in made:
		frappe.db.delete("ToDo", {"reference_type": "Opportunity", "reference_name": name})
		if frappe.db.exists("Opportunity", name):
			frappe.delete_doc("Opportunity", name, force=True, ignore_permissions=True)
	frappe.db.commit()


def _open_list(desk):
	desk.set_viewport_size({"width": 1440, "height": 900})
	desk.goto("/app/opportunity?status=Open")
	desk.wait_for_function("() => window.cur_list && cur_list.data && cur_list.data.length")


def test_amounts_and_dates_are_never_cut_and_the_headers_say_what_they_show(desk, committed):
	deal = committed(
		amount=120000,
		probability=20,
		sales_stage="Negotiation/Review",
		expected_close_date="2027-01-15",
	)
	# a step planned ahead: not a stale deal (whose indicator says "Stale", services/stale.py)
	frappe.get_doc(
		{
			"doctype": "ToDo",
			"description": "call",
			"reference_type": "Opportunity",
			"reference_name": deal.name,
			"date": add_days(today(), 3),
		}
	).insert()
	frappe.db.commit()
	_open_list(desk)
	desk.locator(f'.list-row-checkbox[data-name="{deal.name}"]').wait_for()
	headers = desk.evaluate(HEADERS)
	cells = desk.evaluate(CELLS, deal.name)
	screenshot(desk, "opportunity_list_1440")
	assert headers[1:] == [
		"Status",
		"Stage",
		"Organization",
		"Amount",
		"Forecast Amount",
		"Expected Close Date",
	], headers
	by_header = dict(zip(headers, cells, strict=True))
	assert by_header["Status"]["text"] == "Open"
	assert by_header["Stage"]["text"] == "Negotiation/Review"
	for header, fieldname in [
		("Amount", "amount"),
		("Forecast Amount", "forecast_amount"),
		("Expected Close Date", "expected_close_date"),
	]:
		cell = by_header[header]
		assert cell["fits"], f"{header} is cut: {cell}"
		assert cell["text"] == desk.evaluate(FORMATTED, [deal.name, fieldname])
	assert "120,000.00" in by_header["Amount"]["text"]
	assert "24,000.00" in by_header["Forecast Amount"]["text"]


def test_a_quick_entry_shows_at_the_top_of_the_list_without_a_reload(desk, committed):
	older = committed(amount=10, sales_stage="Prospecting", expected_close_date=add_days(today(), 9))
	_open_list(desk)
	desk.wait_for_function(f"() => cur_list.data[0].name === {older.name!r}")
	desk.evaluate("() => { window.__no_reload = true; }")
	# no live socket (a proxy that drops websockets, a socketio restart): the list must not depend on it
	desk.evaluate("() => frappe.realtime.socket && frappe.realtime.socket.disconnect()")

	name = unique("Quick list deal")
	desk.locator(".primary-action", has_text="Add Opportunity").click()
	dialog = desk.locator(".modal.show .modal-dialog")
	dialog.wait_for()
	dialog.locator("input[data-fieldname='opportunity_name']").fill(name)
	pick_link(dialog, "sales_stage", "Qualification")
	close = desk.evaluate("(d) => frappe.datetime.str_to_user(d)", add_days(today(), 20))
	dialog.locator("input[data-fieldname='expected_close_date']").fill(close)
	dialog.locator(".modal-title").click()
	type_number(dialog, "amount", 1000)
	dialog.locator(".btn-primary", has_text="Save").click()
	dialog.wait_for(state="hidden")

	frappe.db.rollback()
	new = frappe.db.get_value("Opportunity", {"opportunity_name": name})
	assert new
	committed.track(new)
	# the first row on screen is the new deal, the one before it is second: newest first, as sorted
	desk.wait_for_function(
		"""([first, second]) => {
			const rows = [...document.querySelectorAll(".list-row-container .list-row-checkbox")]
				.map((c) => c.dataset.name);
			return rows[0] === first && rows[1] === second;
		}""",
		arg=[new, older.name],
		timeout=15_000,
	)
	assert desk.evaluate("() => window.__no_reload === true")  # the same page, not reloaded
	assert desk.locator(".list-row-container").first.inner_text().count(name) == 1
