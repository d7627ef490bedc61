"""Every index of services/indexes.py exists after migrate, with its columns in order, and making them
again changes nothing."""

import frappe

from opportunity_suite.services.indexes import INDEXES, ensure_indexes, index_name


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
