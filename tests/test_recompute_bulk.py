"""A big recompute rewrites the forecasts without the index that holds them (the list's sort by Forecast
Amount, services/indexes.py): dropped while it runs, made again after, the same values stored as by a
run that keeps it; kept when the table's lock can't be had in time (a long transaction on the table);
made again by the recompute's watchdog and by migrate when a killed run left it dropped. Watched from a
second connection, as another user of the site sees the table."""

import threading
import time

import frappe
import pymysql
import pytest

from opportunity_suite.services import indexes, recompute
from tests.factories import bulk_make_opportunities, delete_bulk_opportunities

COUNT = 3000
INDEX = "forecast_amount"


@pytest.fixture
def rows():
	prefix = "RBK" + frappe.generate_hash(length=5).upper()
	bulk_make_opportunities(COUNT, prefix)
	frappe.db.commit()
	yield prefix
	frappe.db.rollback()
	delete_bulk_opportunities(prefix)
	indexes.ensure_forecast_indexes()
	frappe.db.commit()


def _connection():
	return pymysql.connect(**frappe.db.get_connection_settings(), autocommit=True)


class Watcher(threading.Thread):
	"""Looks at the table's indexes from its own connection until stopped: was the index ever missing?"""

	def __init__(self):
		super().__init__(daemon=True)
		self.connection, self.looks, self.saw_missing = _connection(), 0, False
		self.stopping = threading.Event()

	def run(self):
		with self.connection.cursor() as cursor:
			while not self.stopping.is_set():
				cursor.execute(f"show index from `tabOpportunity` where Key_name = '{INDEX}'")
				self.saw_missing |= not cursor.fetchall()
				self.looks += 1
				time.sleep(0.002)

	def __enter__(self):
		self.start()
		return self

	def __exit__(self, *exc):
		self.stopping.set()
		self.join(10)
		self.connection.close()


def _make_stale(prefix: str):
	frappe.db.sql(
		"update `tabOpportunity` set forecast_amount = -1, base_forecast_amount = -1 where name like %s",
		(prefix + "-%",),
	)
	frappe.db.commit()


def _stored(prefix: str) -> list[tuple]:
	return frappe.db.sql(
		"select name, forecast_amount, base_forecast_amount from `tabOpportunity` where name like %s "
		"order by name",
		(prefix + "-%",),
	)


def _wrong(prefix: str) -> int:
	return frappe.db.sql(
		"""select count(*) from `tabOpportunity` where name like %s
		and (forecast_amount <> round(amount * probability / 100, 2) or base_forecast_amount = -1)""",
		(prefix + "-%",),
	)[0][0]


def _has_index() -> bool:
	return bool(frappe.db.has_index("tabOpportunity", INDEX))


def test_a_big_run_rewrites_without_the_index_and_stores_what_a_run_keeping_it_does(rows):
	assert _has_index()
	_make_stale(rows)
	with Watcher() as watcher:
		recompute.recompute_all_forecasts(batch_size=300, publish=False, bulk_from=1)
	assert watcher.saw_missing and watcher.looks > 1
	assert _has_index()
	assert _wrong(rows) == 0
	bulk = _stored(rows)

	_make_stale(rows)
	with Watcher() as watcher:
		recompute.recompute_all_forecasts(batch_size=300, publish=False, bulk_from=10**9)
	assert watcher.looks > 1 and not watcher.saw_missing  # a small run keeps it
	assert _stored(rows) == bulk
	assert recompute.read_state().last_recompute_status == "Completed"


def test_the_index_is_kept_when_the_tables_lock_is_not_had_in_time(rows, monkeypatch):
	"""A transaction reading the table holds its metadata lock: the drop gives up after DDL_LOCK_WAIT
	(instead of making every later query on the table queue behind it) and the run goes on with the
	index, to the same values."""
	monkeypatch.setattr(indexes, "DDL_LOCK_WAIT", 1)
	_make_stale(rows)
	reader = pymysql.connect(**frappe.db.get_connection_settings())
	try:
		with reader.cursor() as cursor:
			cursor.execute("begin")
			cursor.execute("select name from `tabOpportunity` limit 1")
			cursor.fetchall()
		started = time.monotonic()
		with Watcher() as watcher:
			recompute.recompute_all_forecasts(batch_size=300, publish=False, bulk_from=1)
		assert not watcher.saw_missing
		assert time.monotonic() - started >= 1  # it waited, once
	finally:
		reader.rollback()
		reader.close()
	assert _has_index()
	assert _wrong(rows) == 0


def test_an_index_a_killed_run_left_dropped_is_made_again_by_the_watchdog_and_by_migrate(rows):
	recompute._set_state({"last_recompute_status": "Completed"})
	frappe.db.sql_ddl(f"alter table `tabOpportunity` drop index `{INDEX}`")  # what the killed run left
	assert not _has_index()
	recompute.resume_stalled_recompute()  # the scheduler's watchdog
	assert _has_index()

	frappe.db.sql_ddl(f"alter table `tabOpportunity` drop index `{INDEX}`")
	indexes.ensure_indexes()  # after every migrate
	assert _has_index()
	columns = frappe.db.sql(f"show index from `tabOpportunity` where Key_name = '{INDEX}'", as_dict=True)
	assert [c.Column_name for c in columns] == [INDEX]  # the index Frappe makes for the field
