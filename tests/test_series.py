"""An opportunity's number comes from Frappe's naming series without the series row being held until the
insert commits (services/series.py): creates don't queue behind each other, names stay the series'."""

import re
import threading

import frappe
import pymysql
import pytest
from frappe.model import naming

from opportunity_suite.services import series
from opportunity_suite.services.importing.writer import reserve_names
from tests.factories import make_opportunity

PREFIX = "OPP-"


def _connection(settings=None):
	return pymysql.connect(**(settings or frappe.db.get_connection_settings()), autocommit=True)


def _committed_current(prefix: str = PREFIX) -> int:
	connection = _connection()
	try:
		with connection.cursor() as cursor:
			cursor.execute("SELECT `current` FROM `tabSeries` WHERE `name` = %s", (prefix,))
			return int(cursor.fetchone()[0])
	finally:
		connection.close()


def _forget_series(prefix: str):
	connection = _connection()
	try:
		with connection.cursor() as cursor:
			cursor.execute("DELETE FROM `tabSeries` WHERE `name` = %s", (prefix,))
	finally:
		connection.close()


def test_an_open_create_leaves_the_series_row_free():
	"""While a create's transaction is still open, another connection takes the series row at once (with
	Frappe's own naming it is locked until that create commits: every other create waits for it)."""
	opp = make_opportunity()
	assert re.fullmatch(rf"{re.escape(PREFIX)}\d{{5,}}", opp.name), opp.name  # OPP-.#####: 5 digits or more
	other = pymysql.connect(**frappe.db.get_connection_settings())
	try:
		with other.cursor() as cursor:
			cursor.execute("SELECT `current` FROM `tabSeries` WHERE `name` = %s FOR UPDATE NOWAIT", (PREFIX,))
			(current,) = cursor.fetchone()
		assert current >= int(opp.name[len(PREFIX) :])  # its number is committed already
	finally:
		other.rollback()
		other.close()


def test_creates_get_the_series_next_numbers():
	first = make_opportunity()
	second = make_opportunity()
	assert int(second.name[len(PREFIX) :]) > int(first.name[len(PREFIX) :])
	assert _committed_current() >= int(second.name[len(PREFIX) :])


def test_a_new_series_starts_at_one_and_concurrent_takers_never_share_a_number():
	prefix = f"OPPTEST-{frappe.generate_hash(length=6)}-"
	settings = frappe.db.get_connection_settings()
	numbers, errors = [], []

	def take(count):
		try:
			for _ in range(count):
				numbers.append(series._take_committed(prefix, settings))
		except Exception as e:  # shown by the assert below
			errors.append(e)

	try:
		assert series._take_committed(prefix, settings) == 1
		threads = [threading.Thread(target=take, args=(25,)) for _ in range(4)]
		for t in threads:
			t.start()
		for t in threads:
			t.join(120)
		assert not errors
		assert sorted(numbers) == list(range(2, 102))
	finally:
		_forget_series(prefix)


def test_the_importers_reserved_numbers_are_skipped_in_its_transaction(monkeypatch):
	"""The importer holds the series row in its transaction: a create in the same transaction takes its
	number there, after the reserved ones (a second connection would wait for this one forever)."""
	reserved = reserve_names(PREFIX, 5, 3)
	monkeypatch.setattr(series, "_take_committed", _must_not_run)
	opp = make_opportunity()
	assert int(opp.name[len(PREFIX) :]) == int(reserved[-1][len(PREFIX) :]) + 1


def test_a_delete_then_a_create_in_one_transaction(monkeypatch):
	"""Frappe's delete gives the last number back under the series row's lock: a create after it in the
	same transaction takes its number in it."""
	gone = make_opportunity()
	frappe.delete_doc("Opportunity", gone.name)
	monkeypatch.setattr(series, "_take_committed", _must_not_run)
	opp = make_opportunity()
	assert opp.name == gone.name  # it was the last: Frappe gave its number back, and the create took it


def test_another_holder_of_the_row_is_waited_for_then_the_number_is_taken_in_the_transaction(monkeypatch):
	"""A holder the app doesn't know of (here Frappe's own getseries in this transaction): the second
	connection gives up after WAIT_SECONDS and the number is taken as Frappe takes it."""
	monkeypatch.setattr(series, "WAIT_SECONDS", 1)
	taken = int(naming.getseries(PREFIX, 5))
	opp = make_opportunity()
	assert int(opp.name[len(PREFIX) :]) == taken + 1
	following = make_opportunity()  # the transaction is known to hold it now: no second wait
	assert int(following.name[len(PREFIX) :]) == taken + 2


def test_the_hold_ends_with_the_transaction():
	reserve_names(PREFIX, 5, 1)
	assert PREFIX in series._held()
	frappe.db.rollback()
	assert PREFIX not in series._held()
	make_opportunity()
	assert PREFIX not in series._held()


def _must_not_run(*args, **kwargs):
	pytest.fail("the number was taken on a second connection while this transaction holds the series row")
