"""The app's user-facing strings, and those a language's translation file (`translations/<lang>.csv`,
Frappe's CSV format: source, translation[, context]) lacks.

The strings are Frappe's own extraction (`frappe.translate.get_messages_for_app`: DocType names, labels,
descriptions, Select options and roles, the report, `_()` in Python and Jinja, `__()` in JS) plus what it
leaves out although the desk translates it: the workspace (title, headers, cards, links, shortcuts), the
number cards' and charts' labels, the print formats' titles, the Kanban board's name and the shipped
picklist records (Opportunity Stage, Opportunity Type and Lead Source are translated DocTypes: the desk shows
their names through `__()`).
"""

import csv
import io
import json
import re
from pathlib import Path

import frappe
from frappe.gettext.extractors.utils import extract_messages_from_code, is_translatable
from frappe.translate import get_messages_for_app, get_translation_dict_from_file
from frappe.utils import strip_html_tags

APP = "opportunity_suite"
_APP_ROOT = Path(__file__).resolve().parent.parent
# Frappe's extraction also returns the site's Navbar Items, which are not the app's
_NOT_THE_APPS = ("Navbar:",)


def translation_file(lang: str) -> Path:
	return _APP_ROOT / "translations" / f"{lang}.csv"


def shipped_translations(lang: str) -> dict[str, str]:
	"""The app's translation file as Frappe reads it: {source or "source:context": translation}."""
	return get_translation_dict_from_file(str(translation_file(lang)), lang, APP)


def app_messages() -> dict[str, str]:
	"""Every user-facing string of the app → where it comes from (the first place found)."""
	found: dict[str, str] = {}

	def add(message, where: str):
		message = (message or "").strip()
		if message and is_translatable(message) and message not in found:
			found[message] = where

	frappe.flags.scanned_files = set()  # Frappe's extraction scans a file once per process, then skips it
	for entry in get_messages_for_app(APP):
		where, message = entry[0] or "", entry[1]
		if not where.startswith(_NOT_THE_APPS):
			add(message, where)
	for add_from in (_doctype_json_messages, _workspace_messages, _widget_messages, _record_messages):
		for where, message in add_from():
			add(message, where)
	return found


def missing_messages(lang: str, messages: dict[str, str] | None = None) -> dict[str, str]:
	"""The app's strings (or `messages`: app_messages()) the app's `lang` file has no entry for → where each
	comes from."""
	shipped = shipped_translations(lang)
	messages = app_messages() if messages is None else messages
	return {message: where for message, where in messages.items() if not shipped.get(message)}


def as_csv(messages, lang: str = "zh") -> str:
	"""Rows ready to paste into `translations/<lang>.csv`: the source, then Frappe's own translation of it
	when Frappe has one (to keep the app's words consistent with the desk's), else empty."""
	from frappe.translate import get_translations_from_apps

	frappe_words = get_translations_from_apps(lang, ["frappe"])
	out = io.StringIO()
	writer = csv.writer(out, lineterminator="\n")
	for message in sorted(messages):
		writer.writerow([message, frappe_words.get(message, "")])
	return out.getvalue()


def print_missing(lang: str = "zh"):
	"""`scripts/translations-missing`: the missing strings as CSV rows on stdout, ready to append to the
	app's file once translated (Frappe's translation prefilled where it has one), and a count on stderr."""
	import sys

	missing = missing_messages(lang)
	sys.stdout.write(as_csv(missing, lang))
	sys.stderr.write(f"{len(missing)} strings of the app have no entry in {translation_file(lang).name}\n")


def _doc_files(kind: str):
	for path in sorted((_APP_ROOT / APP).glob(f"{kind}/*/*.json")):
		if path.parent.name != path.stem:
			continue
		yield path.relative_to(_APP_ROOT.parent), json.loads(path.read_text())


def _doctype_json_messages():
	"""The DocTypes' JSON on disk too, so that a label is found before a migrate has put it in the database."""
	for where, doctype in _doc_files("doctype"):
		if doctype.get("doctype") != "DocType":
			continue
		where = f"DocType: {doctype['name']}"
		yield where, doctype["name"]
		yield where, doctype.get("description")
		for field in doctype.get("fields", []):
			yield where, field.get("label")
			yield where, field.get("description")
			if field.get("fieldtype") == "Select":
				yield from ((where, option) for option in (field.get("options") or "").split("\n"))


def _header_text(html: str) -> str:
	return re.sub(r"\s+", " ", strip_html_tags(html or "")).strip()


def _workspace_messages():
	for where, workspace in _doc_files("workspace"):
		where = str(where)
		yield where, workspace.get("title")
		yield where, workspace.get("label")
		for block in json.loads(workspace.get("content") or "[]"):
			if block.get("type") in ("header", "paragraph"):
				yield where, _header_text(block.get("data", {}).get("text"))
		for link in workspace.get("links", []):
			yield where, link.get("label")
			yield where, link.get("description")
		for shortcut in workspace.get("shortcuts", []):
			yield where, shortcut.get("label")
			yield where, shortcut.get("format")
		for chart in workspace.get("charts", []):
			yield where, chart.get("label")
		for card in workspace.get("number_cards", []):
			yield where, card.get("label")
		for item in workspace.get("quick_lists", []):
			yield where, item.get("label")


def _widget_messages():
	for where, card in _doc_files("number_card"):
		yield str(where), card.get("label")
	for where, chart in _doc_files("dashboard_chart"):
		yield str(where), chart.get("chart_name")
	for where, print_format in _doc_files("print_format"):
		yield str(where), print_format.get("name")
		for _line, message, _context in extract_messages_from_code(print_format.get("html") or ""):
			yield str(where), message  # the Jinja template's _()


def _record_messages():
	"""The picklist records the app ships (their DocTypes show names translated), and its Kanban board (the
	board's page is titled with `__(name)`)."""
	from opportunity_suite.services.kanban import BOARD_NAME
	from opportunity_suite.services.picklists import DEFAULT_VALUES
	from opportunity_suite.services.stages import DEFAULT_STAGES

	yield "services/kanban.py", BOARD_NAME

	for stage in DEFAULT_STAGES:
		yield "services/stages.py", stage[0]
	for doctype, values in DEFAULT_VALUES.items():
		for value in values:
			yield f"services/picklists.py ({doctype})", value
