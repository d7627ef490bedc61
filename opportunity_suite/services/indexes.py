"""The database indexes behind the desk's speed on a big pipeline, in one place (bench/desk_latency.py).

Frappe makes a one-column index for each field with `search_index` in the DocType JSON. What one column
can't do is listed here and made after every migrate (`ensure_indexes`, idempotent: an index already there
by its name is left alone; made online by MariaDB, the table stays readable and writable):

- the list's standard filters with its default order (`modified` desc): `(filter, modified)` lets MariaDB
  read the first page in order instead of sorting every matching row;
- the list's other sort columns: one index each, read backwards or forwards for the first page;
- covering indexes (every column the query reads is in the index, so no row is fetched) for the
  aggregates the pre-aggregated totals don't answer: won deals by when they closed, stale deals.

Each index costs every insert and every update of its columns (bench/import_benchmark.py measures it);
an index is here only when a desk call needs it."""

import hashlib
from contextlib import contextmanager

import frappe

# DocType -> the column lists of its indexes, each a tuple in index order
INDEXES: dict[str, tuple[tuple[str, ...], ...]] = {
	"Opportunity": (
		# standard filters + the default order (each also serves its field's own lookups: these fields have
		# no one-column index of their own, see below)
		("status", "modified"),
		("sales_stage", "modified"),
		("assigned_to", "modified"),
		("organization", "modified"),
		("forecast_category", "modified"),
		("loss_reason", "modified"),
		("is_stale", "modified"),
		# the list's sort columns (`modified`, `expected_close_date` and the filters above sort already;
		# amount, forecast amount and name are `search_index` fields of the DocType)
		("creation",),
		("idx",),
		("owner",),  # the sidebar's Created By counts, and sorting by it
		# Won this Quarter and Average Deal Size (won deals by when they closed), Stale Deals
		("status", "closed_on", "base_amount"),
		("status", "is_stale"),
	),
}


# Frappe's schema sync (every migrate that changes the DocType, every Customize Form save) drops a
# ONE-column index on a DocType field without `search_index` (it takes it for a search index switched off);
# it leaves indexes of several columns alone (`get_column_index` skips them). So a one-column index on a
# field is its `search_index` in the DocType JSON, never an entry here; and a field that leads an index of
# several columns here has no `search_index` (its own one-column index would only double the write cost).
#
# No index holds the forecast columns beyond the sort one: the report, its chart, the cards and the Kanban
# totals read the pre-aggregated totals (services/totals/), and every index holding `forecast_amount` or
# `base_forecast_amount` is rewritten for each row the bulk recompute changes (three covering indexes made
# the plain UPDATE of a million forecasts ~7x slower: 310 s against 46 s in one run, load 8).

_OLD_COVERING = (
	("status", "modified", "base_amount", "base_forecast_amount"),
	("sales_stage", "modified", "base_amount", "base_forecast_amount"),
	(
		"status",
		"expected_close_date",
		"sales_stage",
		"assigned_to",
		"forecast_category",
		"base_amount",
		"base_forecast_amount",
	),
)


def index_name(columns: tuple[str, ...]) -> str:
	"""`os_` + the columns, within MariaDB's 64 characters (the `os_` prefix: ours, not Frappe's)."""
	name = "os_" + "_".join(columns)
	return name if len(name) <= 64 else name[:55] + "_" + hashlib.sha1(name.encode()).hexdigest()[:8]


# made under older rules, dropped by name at migrate
OBSOLETE = {
	"Opportunity": ("os_amount", "os_forecast_amount", "os_opportunity_name", *map(index_name, _OLD_COVERING))
}


def leads_an_index(doctype: str, fieldname: str) -> bool:
	"""Whether an index starts with this field: its `search_index`, or one of ours (its distinct values can be
	read from the index)."""
	df = frappe.get_meta(doctype).get_field(fieldname)
	if df and (df.search_index or df.unique):
		return True
	return any(columns[0] == fieldname for columns in INDEXES.get(doctype, ()))


def ensure_indexes():
	"""Create every index of INDEXES that is missing (after_migrate). An index whose column a site doesn't
	have yet (a field from another branch) waits for the migrate that adds it."""
	for doctype, indexes in INDEXES.items():
		if not frappe.db.table_exists(doctype):
			continue
		table_columns = set(frappe.db.get_table_columns(doctype))
		missing = [
			columns
			for columns in indexes
			if set(columns) <= table_columns and not frappe.db.has_index(f"tab{doctype}", index_name(columns))
		]
		changes = [
			f"drop index `{name}`"
			for name in OBSOLETE.get(doctype, ())
			if frappe.db.has_index(f"tab{doctype}", name)
		]
		changes += [
			f"add index `{index_name(columns)}` ({', '.join(f'`{c}`' for c in columns)})"
			for columns in missing
		]
		if changes:  # one ALTER for all of them: one pass over the table, however many indexes
			frappe.db.sql_ddl(f"alter table `tab{doctype}` {', '.join(changes)}")
	ensure_forecast_indexes()  # and the sort index a killed bulk recompute left dropped (below)


def drop_indexes():
	"""Drop every index of INDEXES (for the benchmarks' "before": bench/desk_latency.py); the next migrate
	makes them again."""
	for doctype, indexes in INDEXES.items():
		for columns in indexes:
			name = index_name(columns)
			if frappe.db.has_index(f"tab{doctype}", name):
				frappe.db.sql_ddl(f"alter table `tab{doctype}` drop index `{name}`")


# ---------------------------------------------------------------- a bulk rewrite of the forecasts
#
# The one index holding a forecast column is the list's sort by Forecast Amount (the field's `search_index`,
# named after the field by Frappe). A recompute that rewrites most forecasts moves every row's entry in it:
# at a million rows the plain UPDATE of the two columns took 14.6 s with it and 4.2 s without, and making
# it again afterwards 1.3 s; the recompute 20 s with it, 12 s without it, remaking included
# (bench/recompute.py). So a big run drops it and makes it again when done
# (`without_forecast_index`); the list sorted by Forecast Amount sorts in memory meanwhile (~1 s).

FORECAST_FIELDS = ("forecast_amount", "base_forecast_amount")
DDL_LOCK_WAIT = 5  # seconds a drop or a remake waits for the table's metadata lock


def forecast_search_indexes(doctype: str = "Opportunity") -> list[str]:
	"""The forecast fields with a `search_index`: each one's index is named after it."""
	meta = frappe.get_meta(doctype)
	return [f for f in FORECAST_FIELDS if (df := meta.get_field(f)) and df.search_index]


def _ddl(statement: str) -> bool:
	"""Run DDL that waits at most DDL_LOCK_WAIT seconds for the table's metadata lock: an ALTER waiting
	behind a long transaction (an import's batch) would make every later query on the table queue behind
	it. False when it gave up (nothing changed). Commits (`sql_ddl`)."""
	frappe.db.sql(f"set session lock_wait_timeout = {int(DDL_LOCK_WAIT)}")
	try:
		frappe.db.sql_ddl(statement)
		return True
	except frappe.QueryTimeoutError:
		frappe.logger("opportunity_suite").info(f"gave up waiting for the table's lock: {statement}")
		return False
	finally:
		frappe.db.sql("set session lock_wait_timeout = @@global.lock_wait_timeout")


def ensure_forecast_indexes(doctype: str = "Opportunity") -> bool:
	"""Make the forecast fields' search indexes that are missing (a bulk run killed before making them
	again): after every migrate and from the recompute's watchdog. Online: the table stays writable.
	True when every one is there."""
	table = f"tab{doctype}"
	if not frappe.db.table_exists(doctype):
		return True
	missing = [f for f in forecast_search_indexes(doctype) if not frappe.db.has_index(table, f)]
	if not missing:
		return True
	adds = ", ".join(f"add index `{f}` (`{f}`)" for f in missing)
	return _ddl(f"alter table `{table}` {adds}, algorithm=inplace, lock=none")


@contextmanager
def without_forecast_index(doctype: str = "Opportunity"):
	"""For a bulk rewrite of the forecasts: their search indexes dropped (unless the table's lock isn't
	had within DDL_LOCK_WAIT: then kept) and made again on the way out, however it is left. Commits."""
	table = f"tab{doctype}"
	present = [f for f in forecast_search_indexes(doctype) if frappe.db.has_index(table, f)]
	if present:
		_ddl(f"alter table `{table}` " + ", ".join(f"drop index `{f}`" for f in present))
	try:
		yield
	finally:
		frappe.db.rollback()  # what the rewrite left uncommitted is not the DDL's to commit
		ensure_forecast_indexes(doctype)
