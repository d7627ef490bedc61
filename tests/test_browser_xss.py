"""Stored XSS, tried in a real browser as an attacker would: hostile names for a stage, a type, a lead
source, an organization and an opportunity, saved through REST, the desk and an import (the picklists'
also written straight into the tables, as names stored before the rule), then every page that shows them
opened, its indicators, links and cards hovered and the stage indicator clicked. A dialog hook and a
window.alert/confirm/prompt override record anything that runs: nothing may."""

import json
from urllib.parse import quote

import frappe
import pytest
from frappe.utils import add_days, today

from opportunity_suite.services.kanban import BOARD_NAME
from opportunity_suite.services.safe_names import has_unsafe_characters
from tests.import_fixtures import IMPORT, cleanup, csv_bytes, new_import, prepare, run  # noqa: F401
from tests.records_fixtures import delete_committed, rest_client

pytestmark = pytest.mark.browser

# every payload calls alert(): the hooks below record it
RECORD_SCRIPTS = """
window.__xss = [];
for (const name of ["alert", "confirm", "prompt"]) {
	window[name] = (message) => { window.__xss.push(name + ": " + message); };
}
"""


def _payloads(tag: str) -> dict:
	return {
		# names stored before the rule: straight into the tables
		"stage": f"Hot{tag}' onmouseover='alert(1)",
		"type": f"New{tag}' onmouseover='alert(2)",
		"source": f"Web{tag}' onmouseover='alert(3)",
		# typed by users
		"organization": f'Org{tag}" onmouseover="alert(4)" x=\'" onmouseover=\'alert(4)',
		"opportunity": (
			f'Deal{tag}" onmouseover="alert(5)" \' onmouseover=\'alert(5) '
			"&lt;img src=x onerror=alert(6)&gt; <img src=x onerror=alert(7)>"
		),
		"next_step": "' onmouseover='alert(8)\" onmouseover=\"alert(8)",
	}


def _raw_picklist(doctype: str, name: str):
	values = {
		"Opportunity Stage": {
			"stage_name": name,
			"stage_type": "Open",
			"sequence": 95,
			"default_probability": 40,
		},
		"Opportunity Type": {"type_name": name},
		"Lead Source": {"source_name": name},
	}[doctype]
	frappe.get_doc({"doctype": doctype, **values}).db_insert()


@pytest.fixture
def hostile(web_server):
	tag = frappe.generate_hash(length=6)
	names = _payloads(tag)
	made = {
		"Opportunity Stage": [],
		"Opportunity Type": [],
		"Lead Source": [],
		"Organization": [],
		"Opportunity": [],
	}
	try:
		for doctype, key in (
			("Opportunity Stage", "stage"),
			("Opportunity Type", "type"),
			("Lead Source", "source"),
		):
			_raw_picklist(doctype, names[key])
			made[doctype].append(names[key])
		frappe.db.commit()
		from opportunity_suite.services.kanban import sync_board_columns

		sync_board_columns()
		frappe.db.commit()

		post = rest_client(web_server)
		status, body = post("/api/resource/Organization", {"organization_name": names["organization"]})
		assert status == 200, body
		organization = body["data"]["name"]
		made["Organization"].append(organization)
		status, body = post(
			"/api/resource/Opportunity",
			{
				"opportunity_name": names["opportunity"],
				"sales_stage": names["stage"],
				"opportunity_type": names["type"],
				"lead_source": names["source"],
				"organization": organization,
				"next_step": names["next_step"],
				"amount": 12345,
				"expected_close_date": add_days(today(), 10),
			},
		)
		assert status == 200, body
		opportunity = body["data"]["name"]
		made["Opportunity"].append(opportunity)
		yield frappe._dict(
			tag=tag, names=names, organization=organization, opportunity=opportunity, post=post
		)
	finally:
		frappe.db.rollback()
		for doctype in (
			"Opportunity",
			"Organization",
			"Opportunity Stage",
			"Opportunity Type",
			"Lead Source",
		):
			made[doctype] += frappe.get_all(doctype, {"name": ("like", f"%{tag}%")}, pluck="name")
			delete_committed(doctype, set(made[doctype]))
		frappe.db.commit()
		from opportunity_suite.services.kanban import sync_board_columns

		sync_board_columns()
		frappe.db.commit()


def _watch(page) -> list[str]:
	"""Record every dialog the page opens and every alert/confirm/prompt its scripts call."""
	dialogs: list[str] = []

	def on_dialog(dialog):
		if dialog.type == "beforeunload":  # leaving the unsaved form the refused name stays in
			dialog.accept()
			return
		dialogs.append(f"{dialog.type}: {dialog.message}")
		dialog.dismiss()

	page.on("dialog", on_dialog)
	page.context.add_init_script(RECORD_SCRIPTS)
	return dialogs


def _poke(page, selector: str):
	"""Hover what the page shows (a real mouse on the first match, a mouseover on every match): an
	injected handler would run now. Then look for one that is there but did not run."""
	first = page.locator(selector).first
	if first.count() and first.is_visible():
		first.hover(timeout=5000)
	page.evaluate(
		"""(selector) => document.querySelectorAll(selector).forEach((el) => {
			for (const type of ["mouseover", "mouseenter", "focus"]) el.dispatchEvent(new Event(type, { bubbles: true }));
		})""",
		selector,
	)
	page.wait_for_timeout(200)
	injected = page.evaluate(
		"""() => [...document.querySelectorAll("*")].flatMap((el) => [...el.attributes]
			.filter((a) => a.name.startsWith("on") && a.value.includes("alert("))
			.map((a) => el.tagName + " " + a.name + "=" + a.value))"""
	)
	assert not injected, f"handlers injected into the page: {injected}"


def _assert_nothing_ran(page, dialogs, where: str):
	ran = page.evaluate("window.__xss || []")
	assert not ran and not dialogs, f"{where}: script ran: {ran + dialogs}"


HOVER = ".indicator-pill, .filterable, a[data-name], .list-row-col a, .kanban-card-title, .kanban-title, .dt-cell__content a, .group-by-value"


def test_hostile_names_run_nothing_anywhere(desk, hostile):
	dialogs = _watch(desk)
	names, tag = hostile.names, hostile.tag

	# REST and the desk refuse the names now; what was stored before shows as harmless text
	for doctype, body in (
		("Opportunity Stage", {"stage_name": f'Cold{tag}" onmouseover="alert(9)', "stage_type": "Open"}),
		("Opportunity Type", {"type_name": f"Odd{tag}' onmouseover='alert(9)"}),
		("Lead Source", {"source_name": f"Ad{tag}` onmouseover=`alert(9)"}),
	):
		status, answer = hostile.post(f"/api/resource/{quote(doctype)}", body)
		assert status == 417 and answer["exc_type"] == "UnsafeNameError", answer
	desk.goto("/app/opportunity-stage/new")
	desk.locator("input[data-fieldname='stage_name']").fill(f"Desk{tag}' onmouseover='alert(10)")
	desk.keyboard.press("Control+s")
	desk.locator(".modal.show .msgprint", has_text="can't contain").wait_for()
	frappe.db.rollback()
	assert not frappe.db.exists("Opportunity Stage", {"name": ("like", f"Desk{tag}%")})

	# the list: indicator and cells hovered, then the Stage cell clicked (it filters by the stage)
	desk.goto(f"/app/opportunity?name={quote(hostile.opportunity)}")
	row = desk.locator(".list-row-container", has_text=f"Deal{tag}")
	row.wait_for()
	_poke(desk, HOVER)
	_assert_nothing_ran(desk, dialogs, "list")
	row.locator(".filterable[data-filter^='sales_stage']").first.click()
	desk.wait_for_function("() => !frappe.request.ajax_count")
	desk.locator(".list-row-container", has_text=f"Deal{tag}").wait_for()
	filters = desk.evaluate("cur_list.filter_area.get().map((f) => f[3])")
	assert names["stage"] in filters
	_poke(desk, HOVER)
	_assert_nothing_ran(desk, dialogs, "list after the stage's filter")

	# the form, with its related lists
	desk.goto(f"/app/opportunity/{quote(hostile.opportunity)}")
	desk.locator(".opportunity-related").wait_for()
	_poke(desk, HOVER + ", .title-text, .frappe-control[data-fieldtype='Link'] a")
	_assert_nothing_ran(desk, dialogs, "form")

	# Kanban: the card and the stage's column
	desk.goto(f"/app/opportunity/view/kanban/{quote(BOARD_NAME)}")
	desk.locator(".kanban-card-wrapper", has_text=f"Deal{tag}").wait_for()
	_poke(desk, ".kanban-card-title, .kanban-title, .kanban-column-title, .kanban-card-doc span")
	assert desk.locator(f'.kanban-column[data-column-value="{names["stage"]}"]').count() == 1
	_assert_nothing_ran(desk, dialogs, "kanban")

	# report view with the text fields shown
	desk.goto(f"/app/opportunity/view/report?name={quote(hostile.opportunity)}")
	desk.locator(".dt-cell__content", has_text=f"Deal{tag}").first.wait_for()
	_poke(desk, HOVER + ", .dt-cell__content")
	_assert_nothing_ran(desk, dialogs, "report view")

	# the query report, filtered to the hostile stage, and the workspace
	desk.goto("/app/query-report/Opportunity Forecast?" + f"sales_stage={quote(names['stage'])}&status=Open")
	desk.locator(".dt-cell__content", has_text=f"Hot{tag}").first.wait_for()
	_poke(desk, ".dt-cell__content, .dt-cell__content a, .chart-container text")
	_assert_nothing_ran(desk, dialogs, "query report")
	desk.goto("/app/opportunities")
	desk.locator(".number-card, .widget").first.wait_for()
	desk.wait_for_function("() => !frappe.request.ajax_count")
	_poke(desk, ".widget a, .number-card, .chart-container text")
	_assert_nothing_ran(desk, dialogs, "workspace")

	# the organization, its list and form, and the picklists' lists
	for path in (
		f"/app/organization?name={quote(hostile.organization)}",
		f"/app/organization/{quote(hostile.organization)}",
		"/app/opportunity-stage",
		"/app/lead-source",
		"/app/opportunity-type",
	):
		desk.goto(path)
		desk.wait_for_function("() => !frappe.request.ajax_count")
		desk.wait_for_timeout(500)
		_poke(desk, HOVER + ", .list-subject a")
		_assert_nothing_ran(desk, dialogs, path)


def test_an_import_of_hostile_names_runs_nothing(desk, hostile, cleanup):  # noqa: F811
	dialogs = _watch(desk)
	tag, names = hostile.tag, hostile.names
	header = f'Notes{tag}" onmouseover="alert(11)'
	content = csv_bytes(
		[
			["Opportunity Name", "Sales Stage", "Organization", "Lead Source", "Expected Close Date", header],
			[
				f'Imp{tag}" onmouseover="alert(12)',
				names["stage"],
				f"ImpOrg{tag}' onmouseover='alert(13)",
				names["source"],
				add_days(today(), 15),
				"<img src=x onerror=alert(14)>",
			],
			[f"Bad{tag}", names["stage"], "", f"X{tag}' onmouseover='alert(15)", add_days(today(), 15), ""],
		]
	)
	doc = new_import(cleanup, content, create_missing_organizations=1)
	prepare(doc, ignore=(header,))
	run(doc)
	frappe.db.commit()
	assert doc.created_count == 1, doc.as_dict()
	# an organization the import made gets a safe name; the hostile lead source is not made at all
	assert not [
		n
		for n in frappe.get_all("Organization", {"name": ("like", f"ImpOrg{tag}%")}, pluck="name")
		if has_unsafe_characters(n)
	]
	assert not frappe.get_all("Lead Source", {"name": ("like", f"X{tag}%")})

	desk.goto(f"/app/opportunity-import/{doc.name}")
	desk.locator(".frappe-control[data-fieldname='columns']").wait_for()
	_poke(desk, ".grid-static-col, .static-area, " + HOVER)
	_assert_nothing_ran(desk, dialogs, "import form")
	desk.goto(f"/app/opportunity?opportunity_name={quote(json.dumps(['like', f'Imp{tag}%']))}")
	desk.locator(".list-row-container", has_text=f"Imp{tag}").wait_for()
	_poke(desk, HOVER)
	_assert_nothing_ran(desk, dialogs, "imported records in the list")
