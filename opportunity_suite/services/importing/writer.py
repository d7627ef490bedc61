"""The import's writes: multi-row INSERTs of driver-escaped literals sent straight to the connection,
the naming series' numbers reserved a batch at a time, and the global-search rows written by a second
connection on a thread of their own."""

import datetime
from collections.abc import Iterable, Iterator
from decimal import Decimal

import frappe
from pymysql.converters import escape_string


def sql_literal(value) -> str:
	"""A value as an SQL literal, escaped exactly as the driver (pymysql) escapes a bound parameter."""
	kind = type(value)
	if value is None:
		return "NULL"
	if kind is str:
		return "'" + escape_string(value) + "'"
	if kind is int or kind is float:
		return repr(value)
	if kind is bool:
		return "1" if value else "0"
	if kind is datetime.date:
		return "'" + value.isoformat() + "'"
	if kind is datetime.datetime:
		return "'" + value.isoformat(" ") + "'"
	if kind is Decimal:
		return str(value)
	return frappe.db._conn.literal(value)


GLOBAL_SEARCH_INSERT = (
	"INSERT INTO `__global_search` (`doctype`, `name`, `content`, `published`, `title`, `route`) VALUES "
)
GLOBAL_SEARCH_UPSERT = (
	" ON DUPLICATE KEY UPDATE `content` = VALUES(`content`), `published` = VALUES(`published`), "
	"`title` = VALUES(`title`), `route` = VALUES(`route`)"
)


VALUES_PER_STATEMENT = 500


def _literal_rows(rows: list) -> Iterator[str]:
	"""Each row as `(v1,v2,…)`. A value repeated across rows (stage, currency, user, timestamps, zeros)
	is turned into its literal once. (Equal numbers of different types, 1 and 1.0, share a literal:
	both store the same number.)"""
	memo: dict = {None: "NULL"}
	for row in rows:
		parts = []
		for value in row:
			try:
				literal = memo.get(value)
				if literal is None:
					literal = memo[value] = sql_literal(value)
			except TypeError:  # not hashable
				literal = sql_literal(value)
			parts.append(literal)
		yield "(" + ",".join(parts) + ")"


def _value_statements(statement_head: str, rows: list, tail: str = ""):
	literals = _literal_rows(rows)
	for start in range(0, len(rows), VALUES_PER_STATEMENT):
		count = min(VALUES_PER_STATEMENT, len(rows) - start)
		yield statement_head + ",".join(next(literals) for _ in range(count)) + tail


def execute(statements: Iterable[str], while_waiting=None):
	"""Run `statements` (multi-row INSERTs built from driver-escaped literals) on the transaction's
	connection; MariaDB runs one statement while Python builds the next.

	Why not `frappe.db.bulk_insert`: it renders every value through pypika, about 1 ms per 28-column row
	here, more than everything else an import does; pymysql's executemany costs half of that again in
	generic escaping. Escaping by type with the driver's own `escape_string` is several times faster.
	Column names come from the DocType's meta, values only through `sql_literal`/`escape_string`.
	The statements go to the connection directly (`frappe.db.sql` runs several regexes over the whole
	text), through the two halves of pymysql's `Connection.query`: send, and read the result. The
	result of a statement is always read before the next is sent, and before this returns or raises;
	`while_waiting` (which must not raise, nor use the database) runs while the last one executes."""
	from pymysql.constants import COMMAND

	frappe.db.sql("SELECT 1")  # the connection and the transaction are up
	connection = frappe.db._conn
	in_flight = False
	try:
		for statement in statements:
			if in_flight:
				in_flight = False
				connection._read_query_result()
			connection._execute_command(COMMAND.COM_QUERY, statement)
			in_flight = True
		if in_flight and while_waiting:
			while_waiting()
	finally:
		if in_flight:
			connection._read_query_result()


def insert_statements(doctype: str, fields: list[str], rows: list[list]) -> Iterator[str]:
	"""A batch of new rows of `doctype` as multi-row INSERTs of 500 rows (built as they are sent)."""
	if not rows:
		return iter(())
	columns = ", ".join(f"`{f}`" for f in fields)
	return _value_statements(f"INSERT INTO `tab{doctype}` ({columns}) VALUES ", rows)


def insert_rows(doctype: str, fields: list[str], rows: list[list], while_waiting=None):
	"""A batch of new rows of `doctype`, one multi-row INSERT per 500 rows."""
	execute(insert_statements(doctype, fields, rows), while_waiting)


def upsert_global_search(entries: list[tuple]):
	"""Global-search rows (doctype, name, content, published, title, route), written as Frappe's
	`sync_values` writes them: insert, or update on the unique (doctype, name)."""
	execute(_value_statements(GLOBAL_SEARCH_INSERT, entries, GLOBAL_SEARCH_UPSERT))


class GlobalSearchWriter:
	"""Writes a batch's global-search rows (and its infix search windows, services/search.py) on a second
	connection while the next batch is prepared.

	`__global_search` is MyISAM with a FULLTEXT index: it ignores transactions, and keeping its index is
	the slowest write of an import, with the InnoDB FULLTEXT of the windows (it indexes a batch's windows
	when they commit). Letting MariaDB do both on their own connection while Python prepares the next batch
	uses the second core. A batch commits only once the previous batch's rows are written, so
	after a killed worker at most the last two committed batches can miss entries; a resumed run rewrites
	those first, and a run is Completed only when all are written."""

	def __init__(self):
		import queue
		import threading

		self.params = dict(
			host=frappe.db.host or "127.0.0.1",
			port=int(frappe.db.port or 3306),
			user=frappe.db.user,
			password=frappe.db.password,
			database=frappe.db.cur_db_name,
			charset="utf8mb4",
			autocommit=True,
		)
		self.queue = queue.Queue()
		self.error: Exception | None = None
		self.thread = threading.Thread(target=self._work, name="opportunity-import-search", daemon=True)
		self.thread.start()

	def _work(self):
		import pymysql

		connection = None
		try:
			connection = pymysql.connect(**self.params)
			with connection.cursor() as cursor:
				while (item := self.queue.get()) is not None:
					statements, done = item
					try:
						for statement in statements:
							cursor.execute(statement)
					except Exception as e:
						self.error = e
					finally:
						done.set()
		except Exception as e:
			self.error = e
		finally:
			if connection:
				connection.close()

	def submit(self, entries: list[tuple]):
		"""Global-search rows to write; returns what `wait` waits for."""
		return self.submit_statements(
			list(_value_statements(GLOBAL_SEARCH_INSERT, entries, GLOBAL_SEARCH_UPSERT))
		)

	def submit_statements(self, statements: list[str]):
		"""Statements to run in order after those submitted before (each commits on its own)."""
		import threading

		done = threading.Event()
		self.queue.put((statements, done))
		return done

	def drain(self):
		"""Wait until everything submitted so far has run (before a batch is redone row by row: a row's
		own search rows must not be overwritten by the batch's, still in the queue)."""
		self.wait(self.submit_statements([]))

	def wait(self, done):
		if done is not None:
			done.wait()
		if self.error:
			error, self.error = self.error, None
			raise error

	def close(self):
		self.queue.put(None)
		self.thread.join(timeout=600)


def reserve_names(prefix: str, digits: int, count: int) -> list[str]:
	"""`count` consecutive numbers of the naming series, reserved under the series row's lock (the same
	row Frappe's own naming uses), so desk saves and other imports never get the same number."""
	from opportunity_suite.services.series import hold_in_transaction

	hold_in_transaction(prefix)  # a create in this transaction takes its number in it too
	series = frappe.qb.DocType("Series")
	current = frappe.qb.from_(series).where(series.name == prefix).for_update().select(series.current).run()
	if current and current[0][0] is not None:
		start = int(current[0][0])
		frappe.db.sql("UPDATE `tabSeries` SET `current` = %s WHERE `name` = %s", (start + count, prefix))
	else:
		start = 0
		frappe.db.sql("INSERT INTO `tabSeries` (`name`, `current`) VALUES (%s, %s)", (prefix, count))
	return [f"{prefix}{number:0{digits}d}" for number in range(start + 1, start + count + 1)]
