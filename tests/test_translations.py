"""The app's Chinese translations (opportunity_suite/translations/zh.csv, Frappe's CSV format): every
user-facing string has an entry, Frappe serves them, and they agree with Frappe's own words.

When a string is missing, `scripts/translations-missing` prints the rows to add (see the failure)."""

import csv
import re

import frappe
import pytest
from frappe.translate import get_translations_from_apps

from opportunity_suite.services.translations import (
	app_messages,
	as_csv,
	missing_messages,
	shipped_translations,
	translation_file,
)

LANG = "zh"


@pytest.fixture
def in_chinese():
	before = frappe.local.lang
	frappe.local.lang = LANG
	frappe.translate.clear_cache()
	yield
	frappe.local.lang = before


@pytest.fixture(scope="module")
def messages():
	return app_messages()  # a few seconds: every file of the app is read


def test_every_user_facing_string_of_the_app_has_a_chinese_entry(messages):
	missing = missing_messages(LANG, messages)
	assert not missing, (
		f"{len(missing)} strings of the app have no entry in opportunity_suite/translations/{LANG}.csv.\n"
		"Run `scripts/translations-missing` (or copy the rows below), translate the empty second cells and "
		f"append the rows to the file. Where each string comes from:\n"
		+ "\n".join(f"  {where}: {message}" for message, where in sorted(missing.items()))
		+ "\n\nRows to add (source, Frappe's own translation when it has one):\n"
		+ as_csv(missing, LANG)
	)


def test_the_extraction_covers_every_kind_of_string(messages):
	"""Labels and options (DocType JSON), `_()` and `__()`, the report's columns, the workspace, the number
	cards and chart, the shipped stages and picklists: each kind is found, so none can go untranslated."""
	for message in (
		"Forecast Amount",  # a field label
		"Closed Won",  # a shipped stage (a translated DocType's record)
		"Existing Business",  # a shipped picklist value
		"Owner, Assignees and Their Managers",  # a Select option
		"Convert to Project",  # __() in the form script
		"Lost Reason is required when the stage is {0}.",  # _() in a service
		"Weighted Pipeline",  # a column of the forecast report
		"Opportunity Forecast",  # the report
		"Your Shortcuts",  # a workspace header
		"Pipeline Kanban",  # a workspace shortcut
		"Weighted Pipeline by Month",  # the chart
		"Average Deal Size",  # a number card
	):
		assert message in messages, message
	assert not any(where.startswith("Navbar:") for where in messages.values())  # the site's, not the app's


def test_a_string_without_an_entry_is_reported(messages, tmp_path, monkeypatch):
	"""The check reads the file: take an entry out and the string is reported, in CSV ready to append."""
	from opportunity_suite.services import translations

	rows = translation_file(LANG).read_text(encoding="utf-8").splitlines()
	kept = [row for row in rows if not row.startswith("Forecast Amount,")]
	assert len(kept) == len(rows) - 1
	(tmp_path / f"{LANG}.csv").write_text("\n".join(kept) + "\n", encoding="utf-8")
	monkeypatch.setattr(translations, "translation_file", lambda lang: tmp_path / f"{lang}.csv")
	missing = missing_messages(LANG, messages)
	assert list(missing) == ["Forecast Amount"]
	assert as_csv(missing, LANG) == "Forecast Amount,\n"


def test_frappe_serves_the_apps_translations(in_chinese):
	assert frappe._("Opportunity") == "商机"
	assert frappe._("Forecast Amount") == "预测金额"
	assert frappe._("Sales Stage") == "销售阶段"
	assert frappe._("Expected Close Date") == "预计成交日期"
	assert frappe._("Won") == "赢单" and frappe._("Lost") == "输单"
	# the app's words where Frappe's generic ones don't fit a sales desk, only in the app's DocTypes
	assert frappe._("Open", context="Opportunity") == "进行中"
	assert frappe._("Assigned To", context="Opportunity") == "负责人"
	assert frappe._("Open") == get_translations_from_apps(LANG, ["frappe"])["Open"]
	assert frappe._("Lost Reason is required when the stage is {0}.").format(frappe._("Closed Lost")) == (
		"阶段为 输单 时必须填写输单原因。"
	)


# Frappe's word replaced on every screen, on purpose: "往来" (dealings) is ERPNext's accounting word for
# Contacts; a sales desk and Frappe's own Contact both mean 联系人
DELIBERATE = {"Contacts": "联系人"}


def test_the_apps_words_agree_with_frappes_where_they_overlap():
	"""A plain entry (no context) replaces Frappe's translation on every screen of the desk: the app keeps
	Frappe's word; its own wording for its DocTypes goes in entries with the DocType as context."""
	frappe_words = get_translations_from_apps(LANG, ["frappe"])
	ours = shipped_translations(LANG)
	differ = {
		source: ours[source]
		for source in ours
		if source in frappe_words and ours[source] != frappe_words[source]
	}
	assert differ == DELIBERATE


_PLACEHOLDERS = re.compile(r"\{\d*\}|\{\{.*?\}\}|\{%.*?%\}|\{[a-z_]+\}|<[^>]+>")


def test_translations_keep_every_placeholder_and_tag():
	with translation_file(LANG).open(encoding="utf-8", newline="") as handle:
		rows = list(csv.reader(handle))
	assert all(len(row) in (2, 3) and row[1].strip() for row in rows)
	wrong = [
		row[0]
		for row in rows
		if sorted(_PLACEHOLDERS.findall(row[0])) != sorted(_PLACEHOLDERS.findall(row[1]))
	]
	assert not wrong
	sources = [(row[0], row[2] if len(row) == 3 else "") for row in rows]
	assert len(sources) == len(set(sources))  # one entry per string (and context)
