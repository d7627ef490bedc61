"""Version rows (the record's timeline) for what an import overwrote or merged, and for what its undo
restored: the same rows a desk save writes, diffed by Frappe's own `get_diff` (formatted values,
`changed` / `added` / `removed` / `row_changed`), owned by the user who imported, marked "via Opportunity
Import" as Frappe's Data Import marks its own, and written a batch at a time."""

import frappe
from frappe import _
from frappe.core.doctype.version.version import Version, get_diff

VERSION_FIELDS = (
	"name",
	"creation",
	"modified",
	"modified_by",
	"owner",
	"docstatus",
	"idx",
	"ref_doctype",
	"docname",
	"data",
)
_STAMPS = ("modified", "modified_by")


def tracks_changes(doctype: str) -> bool:
	return bool(frappe.get_meta(doctype).track_changes)


def version_data(doctype: str, old: dict, new: dict, reference: dict | None) -> str | None:
	"""The Version `data` JSON for the change from `old` to `new` (rows of `doctype`), None if nothing
	a desk save would record changed."""
	old_doc = frappe.get_doc({**old, "doctype": doctype})
	new_doc = frappe.get_doc({**new, "doctype": doctype})
	new_doc.flags.updater_reference = reference
	diff = get_diff(old_doc, new_doc)
	if not diff:
		return None
	Version.set_impersonator(diff)
	return frappe.as_json(diff, indent=None, separators=(",", ":"))


def insert_versions(
	doctype: str, changes: list[tuple[dict, dict]], reference: dict | None, user: str, when
) -> list[str]:
	"""One Version row per (old row, new row) that differs, in one multi-row insert. Returns their names."""
	from opportunity_suite.services.importing.writer import insert_rows

	if not changes or not tracks_changes(doctype):
		return []
	rows = []
	for old, new in changes:
		data = version_data(doctype, old, new, reference)
		if data:
			name = frappe.generate_hash(length=10)  # as Version's `hash` autoname
			rows.append([name, when, when, user, user, 0, 0, doctype, new["name"], data])
	insert_rows("Version", list(VERSION_FIELDS), rows)
	return [row[0] for row in rows]


def _reference(import_name: str, label: str) -> dict:
	return {"doctype": "Opportunity Import", "docname": import_name, "label": label}


def record_import_versions(run, result):
	"""Version rows for the records a batch overwrote or merged (its before-images), diffed against the
	records as the batch left them, dated with the batch's `modified` stamp."""
	images = result.before_images
	if not images or not tracks_changes(run.meta.name):
		return
	doctype = run.meta.name
	current = {
		row.name: row
		for row in frappe.get_all(
			doctype, filters={"name": ("in", [i["name"] for i in images])}, fields=["*"]
		)
	}
	changes = []
	for image in images:
		new = current.get(image["name"])
		if new:
			old = {**new, **{f: v for f, v in image["before"].items() if f not in _STAMPS}}
			changes.append((old, new))
	insert_versions(
		doctype,
		changes,
		_reference(run.name, _("via Opportunity Import")),
		run.user,
		result.modified,
	)


def record_undo_versions(doctype: str, import_name: str, changes: list[tuple[dict, dict]]):
	"""Version rows for the records an undo restored: (the record before the undo, after it)."""
	insert_versions(
		doctype,
		changes,
		_reference(import_name, _("via Undo of Opportunity Import")),
		frappe.session.user,
		frappe.utils.now_datetime(),
	)
