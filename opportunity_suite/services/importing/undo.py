"""Undo of an import run: remove what it created (opportunities, and the contacts and organizations it
made) and restore what it overwrote or merged from the run's before-images. A record changed since the
import is reported and left alone."""

import json

import frappe
from frappe import _
from frappe.utils import cstr, now_datetime
from frappe.utils.global_search import update_global_search

from opportunity_suite.services import search, totals
from opportunity_suite.services.assignment import follow_assigned_to
from opportunity_suite.services.history import delete_history, history_row, insert_history
from opportunity_suite.services.importing import competitors
from opportunity_suite.services.importing.common import BATCH_DOCTYPE, DOCTYPE, IMPORT_DOCTYPE
from opportunity_suite.services.importing.vcard_contacts import release_address
from opportunity_suite.services.importing.versions import record_undo_versions

UNDOABLE = ("Completed", "Completed with Errors", "Failed")


class UndoError(frappe.ValidationError):
	pass


def can_undo(doc) -> bool:
	user = frappe.session.user
	return (
		user == doc.owner
		or user == "Administrator"
		or bool({"Sales Manager", "System Manager"} & set(frappe.get_roles(user)))
	)


def undo(doc) -> dict:
	if not can_undo(doc):
		frappe.throw(_("Only the import's owner or a Sales Manager can undo it."), exc=frappe.PermissionError)
	if doc.status not in UNDOABLE:
		frappe.throw(_("An import that is {0} can't be undone.").format(_(doc.status)), exc=UndoError)
	frappe.db.get_value(IMPORT_DOCTYPE, doc.name, "name", for_update=True)
	report = {"deleted": 0, "restored": 0, "changed_since": [], "kept": []}
	batches = frappe.get_all(
		BATCH_DOCTYPE,
		filters={"import_run": doc.name},
		fields=["name", "created_records", "before_images"],
		order_by="first_row desc",
	)
	for batch in batches:
		_restore(doc.name, json.loads(batch.before_images or "[]"), report)
		_delete_created(json.loads(batch.created_records or "{}"), report)
	summary = _("Deleted {0}, restored {1}.").format(report["deleted"], report["restored"])
	if report["changed_since"]:
		summary += " " + _("Changed since the import, left alone: {0}").format(
			", ".join(report["changed_since"][:200])
		)
	if report["kept"]:
		summary += " " + _("Still in use, kept: {0}").format(", ".join(report["kept"][:200]))
	frappe.db.set_value(
		IMPORT_DOCTYPE,
		doc.name,
		{"status": "Undone", "undo_report": summary, "finished_on": now_datetime()},
		update_modified=False,
	)
	report["summary"] = summary
	return report


def _restore(import_name: str, images: list[dict], report: dict):
	if not images:
		return
	current = {
		row.name: row
		for row in frappe.get_all(
			DOCTYPE, filters={"name": ("in", [i["name"] for i in images])}, fields=["*"]
		)
	}
	restored = []  # (the record before the undo, after it), for its timeline
	for image in reversed(images):
		name = image["name"]
		if name not in current:
			continue
		if cstr(current[name].modified) != image["modified_after"]:
			report["changed_since"].append(name)
			continue
		before = dict(image["before"])
		rows = before.pop(competitors.FIELD, None)  # the competitors the import replaced
		frappe.db.set_value(DOCTYPE, name, before, update_modified=False)
		if rows is not None:
			competitors.write(
				[{"name": name, competitors.FIELD: rows}], frappe.session.user, now_datetime(), True
			)
		if before.get("assigned_to") and before["assigned_to"] != current[name].assigned_to:
			# the assignment follows assigned_to back, as it followed the import
			follow_assigned_to(
				name,
				before["assigned_to"],
				current[name].assigned_to,
				before["modified"],
				before["modified_by"],
			)
		restored.append((current[name], {**current[name], **before}))
		current[name] = frappe._dict(restored[-1][1])
		update_global_search(frappe.get_doc(DOCTYPE, name))  # as a save does (Frappe's search queue)
		report["restored"] += 1
	# the infix search's windows, for the records whose name the undo put back (one statement)
	search.refresh([old.name for old, new in restored if new.get("opportunity_name") != old.opportunity_name])
	totals.refresh([old.name for old, _new in restored])
	record_undo_versions(DOCTYPE, import_name, restored)
	when, user = now_datetime(), frappe.session.user  # the stage history, as for a save
	insert_history([history_row(old, new, when, user, "Undo of Import") for old, new in restored])


def _delete_created(created: dict, report: dict):
	stamp = created.pop("modified", None)
	names = created.get(DOCTYPE) or []
	if names:
		rows = frappe.get_all(
			DOCTYPE, filters={"name": ("in", names)}, fields=["name", "modified"], as_list=True
		)
		unchanged = [name for name, modified in rows if cstr(modified) == stamp]
		report["changed_since"].extend(name for name, modified in rows if cstr(modified) != stamp)
		for start in range(0, len(unchanged), 1000):
			chunk = unchanged[start : start + 1000]
			frappe.db.delete(DOCTYPE, {"name": ("in", chunk)})
			frappe.db.delete("__global_search", {"doctype": DOCTYPE, "name": ("in", chunk)})
			# their assignments go with them, as Frappe's delete_doc removes a record's ToDos
			frappe.db.delete("ToDo", {"reference_type": DOCTYPE, "reference_name": ("in", chunk)})
			delete_history(chunk)
			competitors.delete_for(chunk)
			search.forget(chunk)
			totals.refresh(chunk)
		report["deleted"] += len(unchanged)
	# addresses, then contacts, then organizations (each links to the next); only those the run created
	# and nobody changed since (an inserted record's `modified` is its `creation`); still linked → kept
	for doctype in ("Address", "Contact", "Organization"):
		names = created.get(doctype) or []
		if not names:
			continue
		for row in frappe.get_all(
			doctype, filters={"name": ("in", names)}, fields=["name", "creation", "modified"]
		):
			if row.modified != row.creation:
				report["changed_since"].append(row.name)
				continue
			frappe.db.savepoint("opportunity_import_undo")
			try:
				if doctype == "Address":  # its contact points at it, as it points at its contact
					release_address(row.name)
				# the undo is allowed (the run's owner or a Sales Manager): what the run made goes with it
				frappe.delete_doc(doctype, row.name, ignore_permissions=True)
				report["deleted"] += 1
			except (frappe.LinkExistsError, frappe.ValidationError):
				frappe.db.rollback(save_point="opportunity_import_undo")
				frappe.clear_last_message()
				report["kept"].append(row.name)
