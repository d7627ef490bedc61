"""Frappe's four export methods, wrapped (hooks.py `override_whitelisted_methods`) so that exports of the
app's DocTypes and reports neutralise spreadsheet formulas. Each wrapper hands the call to Frappe's own
method, which checks export permission itself; exports of any other DocType pass through untouched."""

import frappe
from frappe.core.doctype.data_export import exporter as data_export
from frappe.core.doctype.data_import import data_import
from frappe.desk import query_report, reportview

from opportunity_suite.services.exporting import is_app_doctype, is_app_report, neutralised_exports


@frappe.whitelist()
def export_query() -> None:
	"""Report view / list view export (selected rows, current page or all rows)."""
	with neutralised_exports(is_app_doctype(frappe.form_dict.get("doctype"))):
		return reportview.export_query()


@frappe.whitelist()
def export_report() -> None:
	"""Query and script report export."""
	with neutralised_exports(is_app_report(frappe.form_dict.get("report_name"))):
		return query_report.export_query()


@frappe.whitelist()
def download_template(
	doctype: str,
	export_fields: str | dict | None = None,
	export_records: str | None = None,
	export_filters: str | dict | list | None = None,
	file_type: str = "CSV",
) -> None:
	"""Data Import's template / export download."""
	kwargs = dict(
		doctype=doctype,
		export_fields=export_fields,
		export_records=export_records,
		export_filters=export_filters,
		file_type=file_type,
	)
	with neutralised_exports(is_app_doctype(doctype)):
		return data_import.download_template(**kwargs)


@frappe.whitelist()
def export_data(
	doctype: str | list | None = None,
	parent_doctype: str | None = None,
	all_doctypes: bool | str = True,
	with_data: bool | str = False,
	select_columns: str | None = None,
	file_type: str = "CSV",
	template: bool | str = False,
	filters: str | dict | list | None = None,
	export_without_column_meta: bool | str = False,
) -> None:
	"""Data Export (the older exporter)."""
	kwargs = dict(
		doctype=doctype,
		parent_doctype=parent_doctype,
		all_doctypes=all_doctypes,
		with_data=with_data,
		select_columns=select_columns,
		file_type=file_type,
		template=template,
		filters=filters,
		export_without_column_meta=export_without_column_meta,
	)
	with neutralised_exports(is_app_doctype(doctype) or is_app_doctype(parent_doctype)):
		return data_export.export_data(**kwargs)
