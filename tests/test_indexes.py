"""Every index of services/indexes.py exists after migrate, with its columns in order, and making them
again changes nothing."""

import frappe

from opportunity_suite.services.indexes import INDEXES, OBSOLETE, ensure_indexes, index_name


def _indexes(doctype: str) -> dict[str, list[str]]:
	found: dict[str, list[str]] = {}
	for row in frappe.db.sql(f"show index from `tab{doctype}`", as_dict=True):
		found.setdefault(row.Key_name, []).append((row.Seq_in_index, row.Column_name))
	return {name: [column for _seq, column in sorted(columns)] for name, columns in found.items()}


def test_every_index_exists_after_migrate_with_its_columns_in_order():
	for doctype, indexes in INDEXES.items():
		found = _indexes(doctype)
		for columns in indexes:
			assert found.get(index_name(columns)) == list(columns), (doctype, columns)


def test_index_names_are_unique_and_fit_mariadb():
	names = [index_name(columns) for indexes in INDEXES.values() for columns in indexes]
	assert len(names) == len(set(names))
	assert all(len(name) <= 64 for name in names)


def test_ensure_indexes_again_adds_nothing():
	before = {doctype: _indexes(doctype) for doctype in INDEXES}
	ensure_indexes()
	assert {doctype: _indexes(doctype) for doctype in INDEXES} == before


def test_frappes_schema_sync_keeps_every_index():
	"""Frappe's sync drops a one-column index on a field it doesn't mark indexed: none of ours is one."""
	meta = frappe.get_meta("Opportunity")
	for columns in INDEXES["Opportunity"]:
		if len(columns) == 1:  # a one-column index on a field is its search_index, never ours
			assert meta.get_field(columns[0]) is None, columns
	frappe.db.updatedb("Opportunity")  # what a migrate or a Customize Form save runs
	found = _indexes("Opportunity")
	for columns in INDEXES["Opportunity"]:
		assert found.get(index_name(columns)) == list(columns), columns
	for fieldname in ("amount", "forecast_amount", "opportunity_name"):  # the list's sorts, Frappe's index
		assert frappe.db.get_column_index("tabOpportunity", fieldname, unique=False), fieldname


def test_no_index_doubles_another_or_holds_the_forecast_for_the_recompute():
	"""A field leading one of our indexes has no one-column index of its own (a second copy to write on
	every insert), and no index of ours holds the forecast columns the bulk recompute rewrites."""
	meta = frappe.get_meta("Opportunity")
	for columns in INDEXES["Opportunity"]:
		if len(columns) > 1 and meta.get_field(columns[0]):
			assert not meta.get_field(columns[0]).search_index, columns
			assert not frappe.db.get_column_index("tabOpportunity", columns[0], unique=False), columns
		assert not {"forecast_amount", "base_forecast_amount"} & set(columns), columns
	found = _indexes("Opportunity")
	for name in OBSOLETE["Opportunity"]:
		assert name not in found, name
