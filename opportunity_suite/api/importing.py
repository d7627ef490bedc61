"""Opportunity Import's REST methods: prepare (detect + map columns), start, resume, undo, status, and
save the map as a template. Each checks permission first: importing needs import and create rights on
Opportunity (and write for overwrite/merge), plus access to the import record."""

import frappe
from frappe import _

from opportunity_suite.services.importing import jobs, preview, results, undo
from opportunity_suite.services.importing.common import PROGRESS_FIELDS

IMPORT_DOCTYPE = "Opportunity Import"


def _check_import_rights(doc=None):
	for ptype in ("import", "create"):
		if not frappe.has_permission("Opportunity", ptype):
			frappe.throw(
				_("You need {0} permission on Opportunity to import.").format(_(ptype)),
				exc=frappe.PermissionError,
			)
	if (
		doc is not None
		and doc.duplicate_policy in ("Overwrite", "Merge")
		and not frappe.has_permission("Opportunity", "write")
	):
		frappe.throw(
			_("Overwrite and Merge need write permission on Opportunity."), exc=frappe.PermissionError
		)
	if doc is not None and doc.file_kind == "VCF" and not frappe.has_permission("Contact", "create"):
		frappe.throw(_("Importing vCards needs create permission on Contact."), exc=frappe.PermissionError)


def _get_import(import_name: str, ptype: str = "write"):
	doc = frappe.get_doc(IMPORT_DOCTYPE, import_name)
	doc.check_permission(ptype)
	return doc


@frappe.whitelist(methods=["POST"])
def prepare_import(import_name: str) -> dict:
	"""Detect kind, encoding and delimiter and fill the column map; returns headers and a preview."""
	_check_import_rights()
	doc = _get_import(import_name)
	return jobs.prepare(doc)


@frappe.whitelist(methods=["GET"])
def preview_import(import_name: str) -> dict:
	"""The first 20 rows as the run would store them (links resolved, numbers and dates parsed), each with
	its warnings or the reason it would fail. Read-only: what the checks write is rolled back."""
	_check_import_rights()
	doc = _get_import(import_name, "read")
	_check_import_rights(doc)
	return preview.preview(doc.name)


@frappe.whitelist(methods=["POST"])
def start_import(import_name: str) -> dict:
	"""Check the map and the file, then queue the run on the `long` queue."""
	_check_import_rights()
	doc = _get_import(import_name)
	_check_import_rights(doc)
	return {"job_id": jobs.start(doc)}


@frappe.whitelist(methods=["POST"])
def resume_import(import_name: str) -> dict:
	"""Continue a run left Running with no live job, from its last committed batch."""
	_check_import_rights()
	doc = _get_import(import_name)
	_check_import_rights(doc)
	return {"job_id": jobs.resume(doc)}


@frappe.whitelist(methods=["POST"])
def undo_import(import_name: str) -> dict:
	"""Undo the run: only its owner or a Sales Manager."""
	doc = _get_import(import_name, "read")
	if not undo.can_undo(doc):
		frappe.throw(_("Only the import's owner or a Sales Manager can undo it."), exc=frappe.PermissionError)
	return undo.undo(doc)


@frappe.whitelist(methods=["GET", "POST"])
def get_import_status(import_name: str) -> dict:
	doc = _get_import(import_name, "read")
	fields = (*PROGRESS_FIELDS, "results_file", "failed_rows_file", "error", "undo_report")
	state = {f: doc.get(f) for f in fields}
	state["job_alive"] = jobs.job_is_alive(doc.name) if doc.status in ("Queued", "Running") else False
	return state


@frappe.whitelist(methods=["GET"])
def download_results(import_name: str) -> None:
	"""The run's results file (CSV: every row's number, status, record and reason or warnings)."""
	doc = _get_import(import_name, "read")
	if doc.status in ("Pending", "Queued"):
		frappe.throw(_("This import has not run yet: it has no results."), exc=frappe.ValidationError)
	frappe.response.filename = f"{doc.name}-results.csv"
	frappe.response.filecontent = results.results_csv(doc.name)
	frappe.response.type = "download"


@frappe.whitelist(methods=["POST"])
def save_as_template(import_name: str, template_name: str) -> str:
	"""Save this import's column map and settings as a named template."""
	if not frappe.has_permission(jobs.TEMPLATE_DOCTYPE, "create"):
		frappe.throw(_("You can't create import templates."), exc=frappe.PermissionError)
	doc = _get_import(import_name, "read")
	return jobs.save_template(doc, (template_name or "").strip())
