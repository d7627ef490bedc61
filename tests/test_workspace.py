"""The Opportunities workspace: shortcuts, number cards and the weighted pipeline chart."""

import json

import frappe
from frappe.desk.doctype.number_card.number_card import get_result

from tests.factories import make_opportunity

CARDS = ("Open Pipeline", "Weighted Pipeline", "Won This Quarter", "Average Deal Size", "Stale Deals")


def test_workspace_has_its_shortcuts_cards_and_chart():
	ws = frappe.get_doc("Workspace", "Opportunities")
	assert ws.public and ws.module == "Opportunity Suite"
	shortcuts = {(s.type, s.link_to, s.doc_view) for s in ws.shortcuts}
	assert {
		("DocType", "Opportunity", "New"),
		("DocType", "Opportunity", "List"),
		("DocType", "Opportunity", "Kanban"),
		("Report", "Opportunity Forecast", ""),
		("DocType", "Opportunity Settings", ""),
	} <= {(kind, target, view or "") for kind, target, view in shortcuts}
	kanban = next(s for s in ws.shortcuts if s.doc_view == "Kanban")
	assert frappe.db.exists("Kanban Board", kanban.kanban_board)
	assert [c.number_card_name for c in ws.number_cards] == list(CARDS)
	assert [c.chart_name for c in ws.charts] == ["Weighted Pipeline by Month"]
	blocks = json.loads(ws.content)
	assert {b["data"].get("number_card_name") for b in blocks if b["type"] == "number_card"} == set(CARDS)


def _card(name):
	card = frappe.get_doc("Number Card", name)
	return frappe.utils.flt(get_result(card.as_dict(), card.filters_json))


def test_number_cards_sum_the_default_currency_amounts():
	before = {name: _card(name) for name in CARDS}
	won_count = frappe.db.count("Opportunity", {"status": "Won"})
	won_total = frappe.utils.flt(
		frappe.db.sql("select sum(base_amount) from tabOpportunity where status='Won'")[0][0]
	)
	other = (
		"EUR" if frappe.db.get_single_value("Opportunity Settings", "default_currency") != "EUR" else "USD"
	)
	make_opportunity(amount=1000, sales_stage="Qualification")  # 20 %
	make_opportunity(amount=100, currency=other, exchange_rate=2, sales_stage="Negotiation/Review")  # 80 %
	make_opportunity(amount=300, sales_stage="Closed Won")
	after = {name: _card(name) for name in CARDS}
	assert after["Open Pipeline"] - before["Open Pipeline"] == 1200  # 1000 + 100 × 2
	assert after["Weighted Pipeline"] - before["Weighted Pipeline"] == 360  # 200 + 160
	assert after["Won This Quarter"] - before["Won This Quarter"] == 300  # closed today
	assert round(after["Average Deal Size"], 2) == round((won_total + 300) / (won_count + 1), 2)


def test_the_chart_is_the_forecast_reports_chart():
	chart = frappe.get_doc("Dashboard Chart", "Weighted Pipeline by Month")
	assert (chart.chart_type, chart.report_name, chart.use_report_chart) == (
		"Report",
		"Opportunity Forecast",
		1,
	)
	from frappe.desk.query_report import run

	result = run(chart.report_name, filters=json.loads(chart.filters_json))
	assert result["chart"]["data"]["datasets"][1]["name"] == "Weighted Pipeline"
	assert len(result["chart"]["data"]["labels"]) == 12
	# the report's period view: a row per bar (and the total), not one per period × stage × assignee
	assert json.loads(chart.filters_json)["group_by"] == "Period"
	assert len(result["result"]) == 12 + 1
	assert "sales_stage" not in {c["fieldname"] for c in result["columns"]}


def _cards(ws) -> dict[str, list[str]]:
	"""card label → the DocTypes and reports it links, from the workspace's link rows; each card break's
	link_count (what the desk reads) is checked against the rows that follow it."""
	cards, current, expected_counts = {}, None, {}
	for link in ws.links:
		if link.type == "Card Break":
			current = cards.setdefault(link.label, [])
			expected_counts[link.label] = link.link_count
		else:
			current.append(link.link_to)
	assert expected_counts == {label: len(links) for label, links in cards.items()}
	return cards


def test_the_workspace_links_every_record_of_the_product():
	ws = frappe.get_doc("Workspace", "Opportunities")
	cards = _cards(ws)
	assert cards["Picklists"] == [
		"Opportunity Stage",
		"Opportunity Type",
		"Lead Source",
		"Lost Reason",
		"Competitor",
	]
	assert cards["Forecasting"] == [
		"Forecast Accuracy",
		"Win Loss",
		"Time in Stage",
		"Sales Quota",
		"Forecast Snapshot",
		"Opportunity Stage History",
	]
	linked = {target for links in cards.values() for target in links}
	records = set(
		frappe.get_all(
			"DocType",
			filters={"module": "Opportunity Suite", "istable": 0},
			pluck="name",
		)
	) - {
		"Opportunity Import Batch",  # parts of an import run
		"Opportunity Import Template",
		"Stage Stay Count",  # the Time in Stage report's summary of the stage history, not a record to open
	}
	assert records <= linked, records - linked
	assert {"Contact", "Opportunity Forecast", "Hot Deals", "Opportunities Closing This Month"} <= linked
	# a card of a block in the page's content for each card, and Frappe's "Custom Reports" card (whose
	# links open a report's settings form) hidden
	blocks = json.loads(ws.content)
	assert [b["data"]["card_name"] for b in blocks if b["type"] == "card"] == list(cards)
	assert ws.hide_custom


def test_the_saved_report_views_open_as_reports():
	ws = frappe.get_doc("Workspace", "Opportunities")
	for link in ws.links:
		if (
			link.link_type == "Report"
			and frappe.db.get_value("Report", link.link_to, "report_type") == "Report Builder"
		):
			# the desk routes a Report Builder report with its DocType to /app/<doctype>/view/report/<name>
			assert link.report_ref_doctype == "Opportunity" and not link.is_query_report, link.link_to
