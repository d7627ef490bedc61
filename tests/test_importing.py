"""Opportunity Import: each file kind, bad input, duplicate policies, templates, undo, failed rows,
permissions. Runs commit per batch, so every test registers what it made with the `cleanup` fixture."""

import csv
import io

import frappe
import pytest
from frappe.utils import add_days, getdate, today

from opportunity_suite.services.importing.mapping import MappingError
from opportunity_suite.services.importing.readers import ImportFileError
from tests.factories import make_user, unique
from tests.import_fixtures import (
	IMPORT,
	assert_accounted,
	cleanup,  # noqa: F401 (fixture)
	created,
	csv_bytes,
	make_import,
	prepare,
	run,
	xlsx_bytes,
)

HEADER = ["Opportunity Name", "Amount", "Sales Stage", "Expected Close Date", "Probability (%)", "Next Step"]


def opportunities(doc, *fields):
	names = created(doc)
	return {
		r.opportunity_name: r
		for r in frappe.get_all("Opportunity", filters={"name": ("in", names or [""])}, fields=["name", "opportunity_name", *fields])
	}


def new_import(cleanup, content, extension="csv", **settings):
	doc = make_import(content, extension, **settings)
	cleanup["imports"].append(doc.name)
	return doc


def test_csv_import_creates_like_a_save(cleanup):
	tag = unique("Imp")
	rows = [HEADER, [f"{tag} A", "1,000.50", "prospecting", "2026-12-31", "", "=call"], [f"{tag} B", "$12,000", "Closed Won  ", "2026-12-01", "", ""]]
	doc = new_import(cleanup, csv_bytes(rows))
	prepare(doc)
	assert [c.fieldname for c in doc.columns] == ["opportunity_name", "amount", "sales_stage", "expected_close_date", "probability", "next_step"]
	run(doc)
	assert doc.status == "Completed", doc.error
	assert (doc.rows_read, doc.created_count, doc.failed_count) == (2, 2, 0)
	made = opportunities(doc, "amount", "sales_stage", "probability", "forecast_amount", "status", "closed_on", "base_amount", "next_step", "assigned_to")
	a, b = made[f"{tag} A"], made[f"{tag} B"]
	assert a.name.startswith("OPP-") and a.sales_stage == "Prospecting" and a.probability == 10
	assert (a.amount, a.forecast_amount, a.base_amount) == (1000.5, 100.05, 1000.5)
	assert a.next_step == "=call" and a.assigned_to == "Administrator"
	assert (b.sales_stage, b.status, b.probability, b.amount, getdate(b.closed_on)) == ("Closed Won", "Won", 100, 12000, getdate(today()))
	# findable at once through global search
	assert frappe.db.exists("__global_search", {"doctype": "Opportunity", "name": a.name})
	# the same values a save gives
	saved = frappe.get_doc("Opportunity", a.name)
	saved.save()
	assert (saved.forecast_amount, saved.status, saved.probability) == (a.forecast_amount, a.status, a.probability)
