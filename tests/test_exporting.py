"""Formula neutralisation on Frappe's four export paths: each test calls the whitelisted method the desk
calls (through Frappe's handler, so hooks.py's override is what runs) and reads the CSV/XLSX it returns."""

import csv
import io
import json
from types import SimpleNamespace

import frappe
import openpyxl
import pytest
from frappe.handler import execute_cmd
from frappe.utils import add_days, add_months, get_first_day, getdate, today

from opportunity_suite.services.exporting import neutralise_value, strip_neutralisation
from tests.factories import make_opportunity, make_user, unique

DANGEROUS = {
	"opportunity_name": '=HYPERLINK("http://x","y") {0}',
	"next_step": "+1+cmd|' /C calc'!A0",
	"campaign": "@SUM(A1:A2)",
	"lost_reason": "-2+3",
}


def call(cmd: str, **form) -> frappe._dict:
	"""Run a whitelisted method the way an HTTP POST does; returns Frappe's response."""
	frappe.local.response = frappe._dict(docs=[])
	frappe.local.form_dict = frappe._dict(form)
	frappe.local.request = SimpleNamespace(method="POST")
	try:
		execute_cmd(cmd)
	finally:
		del frappe.local.request
	return frappe.local.response


def csv_rows(response) -> list[list[str]]:
	content = response.get("filecontent") or response.get("result")
	if isinstance(content, bytes):
		content = content.decode("utf-8")
	return list(csv.reader(io.StringIO(content)))


def xlsx_rows(response) -> list[list]:
	workbook = openpyxl.load_workbook(io.BytesIO(response["filecontent"]))
	return [[cell.value for cell in row] for row in workbook.worksheets[0].iter_rows()]


def find_row(rows, needle):
	for row in rows:
		if any(isinstance(v, str) and needle in v for v in row):
			return row
	raise AssertionError(f"{needle} not in export")


@pytest.fixture
def opportunity():
	tag = frappe.generate_hash(length=8)
	values = {k: v.format(tag) for k, v in DANGEROUS.items()}
	doc = make_opportunity(amount=-1234.5, description="<p>plain text</p>", **values)
	doc.tag = tag
	return doc


def test_neutralise_value_rules():
	for text in ("=1+1", "+1+1", "-1+1", "@A1", "\tx", "\rx"):
		assert neutralise_value(text) == "'" + text
		assert strip_neutralisation(neutralise_value(text)) == text
	for value in ("plain", "", "-5", "+1.5", "-0.25e3", 12, -3.5, None):
		assert neutralise_value(value) == value
	assert strip_neutralisation("'plain") == "'plain"  # only the prefix we add is removed
	assert strip_neutralisation("''=1") == "''=1"


def report_view_form(opportunity, file_format_type):
	return dict(
		doctype="Opportunity",
		fields=json.dumps(
			[
				"`tabOpportunity`.`name`",
				"`tabOpportunity`.`opportunity_name`",
				"`tabOpportunity`.`next_step`",
				"`tabOpportunity`.`campaign`",
				"`tabOpportunity`.`lost_reason`",
				"`tabOpportunity`.`amount`",
				"`tabOpportunity`.`expected_close_date`",
			]
		),
		filters=json.dumps([["Opportunity", "name", "=", opportunity.name]]),
		file_format_type=file_format_type,
		title="Opportunity",
	)


def test_report_view_csv_neutralised(opportunity):
	rows = csv_rows(call("frappe.desk.reportview.export_query", **report_view_form(opportunity, "CSV")))
	row = find_row(rows, opportunity.tag)
	assert row[2] == "'" + opportunity.opportunity_name
	assert row[3] == "'" + opportunity.next_step
	assert row[4] == "'" + opportunity.campaign
	assert row[5] == "'" + opportunity.lost_reason
	assert float(row[6]) == -1234.5
	assert row[7] == str(opportunity.expected_close_date)
	# the stored value is untouched
	assert frappe.db.get_value("Opportunity", opportunity.name, "campaign") == opportunity.campaign


def test_report_view_xlsx_keeps_types(opportunity):
	rows = xlsx_rows(call("frappe.desk.reportview.export_query", **report_view_form(opportunity, "Excel")))
	row = find_row(rows, opportunity.tag)
	assert row[2] == "'" + opportunity.opportunity_name
	assert row[4] == "'" + opportunity.campaign
	assert row[6] == -1234.5 and isinstance(row[6], float)
	assert row[7].date() == frappe.utils.getdate(opportunity.expected_close_date)


def test_report_view_selected_rows(opportunity):
	other = make_opportunity(campaign="=other")
	form = report_view_form(opportunity, "CSV")
	form["filters"] = json.dumps([])
	form["selected_items"] = json.dumps([opportunity.name])
	rows = csv_rows(call("frappe.desk.reportview.export_query", **form))
	names = [r[1] for r in rows[1:]]
	assert names == [opportunity.name] and other.name not in names


def test_other_doctypes_pass_through_untouched():
	todo = frappe.get_doc({"doctype": "ToDo", "description": "=1+1 " + unique("todo")}).insert()
	form = dict(
		doctype="ToDo",
		fields=json.dumps(["`tabToDo`.`name`", "`tabToDo`.`description`"]),
		filters=json.dumps([["ToDo", "name", "=", todo.name]]),
		file_format_type="CSV",
		title="ToDo",
	)
	rows = csv_rows(call("frappe.desk.reportview.export_query", **form))
	assert find_row(rows, todo.name)[2] == todo.description


def test_query_report_export(opportunity):
	report = frappe.get_doc(
		{
			"doctype": "Report",
			"report_name": unique("Opp Export Test"),
			"ref_doctype": "Opportunity",
			"report_type": "Query Report",
			"is_standard": "No",
			"query": "select name as `Name:Link/Opportunity:120`, campaign as `Campaign::120`, "
			"amount as `Amount:Currency:120` from `tabOpportunity`",
		}
	).insert()
	for file_format_type, reader in (("CSV", csv_rows), ("Excel", xlsx_rows)):
		response = call(
			"frappe.desk.query_report.export_query",
			report_name=report.name,
			file_format_type=file_format_type,
			filters="{}",
			visible_idx="[]",
		)
		row = next(r for r in reader(response) if r and r[0] == opportunity.name)
		assert row[1] == "'" + opportunity.campaign
		assert float(row[2]) == -1234.5


def forecast_rows_to_export(tag: str) -> frappe._dict:
	"""Opportunities whose Opportunity Forecast rows carry a dangerous stage name and assignee: a stage
	named "+…" (stages are a picklist a Sales Manager edits) and a user whose valid address starts with
	"=" (assigned_to shows the user's id); the report's other text column, the period, is made by us."""
	user = make_user("Sales User", email=f"=cmd{tag}@opportunity-suite.test")
	stage = frappe.get_doc(
		{
			"doctype": "Opportunity Stage",
			"stage_name": f"+Hot {tag}",
			"sequence": 99,
			"default_probability": 50,
			"stage_type": "Open",
		}
	).insert()
	close = add_days(get_first_day(today()), 40)
	make_opportunity(amount=1000, sales_stage=stage.name, assigned_to=user, expected_close_date=close)
	make_opportunity(amount=-20.5, sales_stage="Qualification", assigned_to=user, expected_close_date=close)
	return frappe._dict(user=user, stage=stage.name, period=getdate(close).strftime("%Y-%m"))


def _trimmed(row: list) -> list:
	"""A sheet's row without the empty cells openpyxl pads it with to the widest row."""
	while row and row[-1] in (None, ""):
		row = row[:-1]
	return row


def test_forecast_report_export_neutralises_text_cells_and_keeps_numbers():
	"""Menu → Export of the Opportunity Forecast report posts to frappe.desk.query_report.export_query."""
	data = forecast_rows_to_export(frappe.generate_hash(length=8))
	filters = {
		"period": "Month",
		"from_date": str(get_first_day(today())),
		"to_date": str(add_days(add_months(get_first_day(today()), 12), -1)),
		"status": "Open",
		"assigned_to": data.user,
		"group_by": "Stage and Assignee",  # the assignee's id is a column of this view
	}
	for file_format_type, reader in (("CSV", csv_rows), ("Excel", xlsx_rows)):
		response = call(
			"frappe.desk.query_report.export_query",
			report_name="Opportunity Forecast",
			file_format_type=file_format_type,
			filters=json.dumps(filters),
			applied_filters=json.dumps({"Assigned To": data.user}),
			include_filters="1",
			visible_idx="[]",
		)
		rows = [_trimmed(r) for r in reader(response)]
		assert ["Assigned To", "'" + data.user] in rows  # the filters written above the table, too
		table = rows[
			rows.index(
				[
					"Month",
					"Sales Stage",
					"Assigned To",
					"Opportunities",
					"Pipeline",
					"Weighted Pipeline",
					*(f"{c} (Category)" for c in ("Pipeline", "Best Case", "Commit", "Closed", "Omitted")),
				]
			) :
		]
		hot = next(r for r in table if r[1] == "'" + data.stage)
		qualification = next(r for r in table if r[1] == "Qualification")
		assert hot[:3] == [data.period, "'" + data.stage, "'" + data.user]
		assert qualification[2] == "'" + data.user
		numbers = [hot[3], hot[4], hot[5], qualification[4], qualification[5]]
		if file_format_type == "CSV":
			assert numbers == ["1", "1000.0", "500.0", "-20.5", "-4.1"]  # a negative amount stays a number
		else:
			assert numbers == [1, 1000, 500, -20.5, -4.1]
			assert all(isinstance(v, int | float) for v in numbers)


@pytest.mark.parametrize("file_type", ["CSV", "Excel"])
def test_data_import_download(opportunity, file_type):
	response = call(
		"frappe.core.doctype.data_import.data_import.download_template",
		doctype="Opportunity",
		export_fields=json.dumps({"Opportunity": ["name", "opportunity_name", "campaign", "amount"]}),
		export_records="by_filter",
		export_filters=json.dumps({"name": opportunity.name}),
		file_type=file_type,
	)
	rows = csv_rows(response) if file_type == "CSV" else xlsx_rows(response)
	row = find_row(rows, opportunity.tag)
	assert row[1] == "'" + opportunity.opportunity_name
	assert row[2] == "'" + opportunity.campaign
	assert float(row[3]) == -1234.5
	if file_type == "Excel":
		assert isinstance(row[3], float)


@pytest.mark.parametrize("file_type", ["CSV", "Excel"])
def test_data_export(opportunity, file_type):
	response = call(
		"frappe.core.doctype.data_export.exporter.export_data",
		doctype="Opportunity",
		select_columns=json.dumps({"Opportunity": ["name", "campaign", "amount", "next_step"]}),
		filters=json.dumps({"name": opportunity.name}),
		with_data="1",
		all_doctypes="false",
		file_type=file_type,
	)
	rows = csv_rows(response) if file_type == "CSV" else xlsx_rows(response)
	row = find_row(rows, "'@SUM")
	assert "'" + opportunity.campaign in row
	assert "'" + opportunity.next_step in row
	assert any(_is_number(v, -1234.5) for v in row)


def _is_number(value, expected) -> bool:
	try:
		return float(value) == expected
	except (TypeError, ValueError):
		return False


def test_export_still_checks_permission(opportunity):
	from tests.factories import make_user

	frappe.set_user(make_user())  # no role on Opportunity
	with pytest.raises(frappe.PermissionError):
		call("frappe.desk.reportview.export_query", **report_view_form(opportunity, "CSV"))
