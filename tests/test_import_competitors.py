"""The importer fills an opportunity's competitors from a "Competitor" column and its Loss Reason by name
(services/importing/competitors.py), from CSV and XLSX: unknown or disabled values fail their row, saying
why, as the other picklists do; an update replaces (Overwrite) or fills (Merge) the competitors; an undo
removes and restores them."""

import csv
from pathlib import Path

import frappe
import pytest

from opportunity_suite.services.importing import undo
from tests.factories import unique
from tests.import_fixtures import (  # noqa: F401 (cleanup: a fixture)
	cleanup,
	csv_bytes,
	new_import,
	prepare,
	run,
	xlsx_bytes,
)

# ruff: noqa: F811

FILE = Path(__file__).parent / "data" / "competitors" / "competitors.csv"
RIVALS = {"Rivalco Test": 0, "Contoso Test": 0, "Retired Rival Test": 1}


@pytest.fixture
def rivals():
	for name, disabled in RIVALS.items():
		if not frappe.db.exists("Competitor", name):
			frappe.get_doc({"doctype": "Competitor", "competitor_name": name}).insert()
		frappe.db.set_value("Competitor", name, "disabled", disabled)
	frappe.db.commit()


def _rows() -> list[list[str]]:
	with FILE.open(newline="", encoding="utf-8") as handle:
		return list(csv.reader(handle))


def _content(extension: str, rows=None) -> bytes:
	rows = rows or _rows()
	return csv_bytes(rows) if extension == "csv" else xlsx_bytes({"Opportunities": rows})


def _results(doc) -> dict[int, tuple[str, str, str]]:
	content = frappe.get_doc("File", {"file_url": doc.results_file}).get_content()
	text = content.decode() if isinstance(content, bytes) else content
	return {int(r[0]): (r[1], r[2], r[3]) for r in list(csv.reader(text.splitlines()))[1:]}


def _competitors(name: str) -> list[str]:
	deal = frappe.get_doc("Opportunity", name)
	return [row.competitor for row in deal.competitors]


@pytest.mark.parametrize("extension", ["csv", "xlsx"])
def test_competitors_and_loss_reasons_come_from_their_columns_row_by_row(cleanup, rivals, extension):
	doc = new_import(cleanup, _content(extension), extension)
	prepare(doc)
	mapped = {c.header: c.fieldname for c in doc.columns}
	assert (mapped["Competitor"], mapped["Loss Reason"]) == ("competitors", "loss_reason")
	run(doc)
	results = _results(doc)
	assert (doc.created_count, doc.failed_count) == (2, 3)
	status, deal_a, _reason = results[2]
	assert status == "created" and _competitors(deal_a) == ["Rivalco Test", "Contoso Test"]
	status, deal_b, _reason = results[3]
	assert status == "created" and _competitors(deal_b) == ["Rivalco Test"]
	assert frappe.db.get_value("Opportunity", deal_b, ["loss_reason", "lost_reason"]) == (
		"Price",
		"They went with Rivalco",
	)
	assert results[4][0] == "failed" and "Competitor Nobody Such Rival not found" in results[4][2]
	assert results[5][0] == "failed" and "Retired Rival Test" in results[5][2]
	assert "is disabled and can't be chosen" in results[5][2]
	assert results[6][0] == "failed" and "Lost Reason No Such Reason not found" in results[6][2]


def test_an_update_replaces_or_fills_the_competitors_and_an_undo_puts_them_back(cleanup, rivals):
	tag = unique("Rivals")
	header = ["Opportunity Name", "Amount", "Sales Stage", "Expected Close Date", "Competitor"]
	made = new_import(cleanup, csv_bytes([header, [tag, 1000, "Prospecting", "2031-09-01", "Rivalco Test"]]))
	prepare(made)
	run(made)
	deal = _results(made)[2][1]

	def update(policy: str, competitor: str):
		doc = new_import(
			cleanup,
			csv_bytes([["Opportunity Name", "Competitor"], [tag, competitor]]),
			duplicate_policy=policy,
			match_fields="opportunity_name",
		)
		prepare(doc)
		return run(doc)

	overwrite = update("Overwrite", "Contoso Test; Rivalco Test")
	assert (overwrite.updated_count, overwrite.failed_count) == (1, 0), overwrite.error
	assert _competitors(deal) == ["Contoso Test", "Rivalco Test"]
	update("Merge", "Contoso Test")  # the deal has competitors: a Merge leaves them
	assert _competitors(deal) == ["Contoso Test", "Rivalco Test"]
	undo.undo(overwrite)
	assert _competitors(deal) == ["Rivalco Test"]
	undo.undo(made)
	assert not frappe.db.exists("Opportunity", deal)
	assert not frappe.get_all("Opportunity Competitor", {"parent": deal})
