"""Where an in-process import's seconds go, batch by batch (the import benchmark's `--trace`).

Patches, for the benchmark's process only: pymysql's send/read of a statement (every connection, the
global-search thread's too), timed from sending it to reading its result and grouped by the statement's
shape (its first words, literals blanked), and the phases of a batch (`BatchWriter`'s steps, the run's
checkpoint, the wait for the search thread, the commit). `report()` prints each shape's and phase's
seconds per batch early in the run and late, so what grows with the table shows as the ratio."""

import re
import threading
import time
from collections import defaultdict

_state = {"batch": 0}
_seconds: dict[int, dict[str, float]] = defaultdict(lambda: defaultdict(float))
_sent: dict[int, tuple[str, float]] = {}
_lock = threading.Lock()
_LITERAL = re.compile(r"'(?:[^'\\]|\\.)*'|\b\d+(?:\.\d+)?\b")
_SPACE = re.compile(r"\s+")


def shape(statement) -> str:
	if isinstance(statement, bytes | bytearray):
		statement = statement[:400].decode("utf-8", "replace")
	text = _SPACE.sub(" ", _LITERAL.sub("?", statement[:400])).strip()
	return "sql: " + text[:90]


def _add(key: str, seconds: float):
	with _lock:
		_seconds[_state["batch"]][key] += seconds


def install():
	if _state.get("installed"):
		return
	_state["installed"] = True
	import pymysql.connections as connections

	from opportunity_suite.services.importing import batch, runner, writer

	send, read = connections.Connection._execute_command, connections.Connection._read_query_result

	def traced_send(self, command, sql):
		_sent[id(self)] = (shape(sql), time.perf_counter())
		return send(self, command, sql)

	def traced_read(self, *args, **kwargs):
		try:
			return read(self, *args, **kwargs)
		finally:
			sent = _sent.pop(id(self), None)
			if sent:
				thread = "" if threading.current_thread() is threading.main_thread() else "[search] "
				_add(thread + sent[0], time.perf_counter() - sent[1])

	connections.Connection._execute_command = traced_send
	connections.Connection._read_query_result = traced_read

	def phase(owner, name: str, label: str | None = None):
		original = getattr(owner, name)

		def timed(*args, **kwargs):
			started = time.perf_counter()
			try:
				return original(*args, **kwargs)
			finally:
				_add("phase: " + (label or name), time.perf_counter() - started)

		setattr(owner, name, timed)

	for name in ("resolve_links", "apply_policy", "insert_new", "apply_updates", "write_history"):
		phase(batch.BatchWriter, name)
	for name in ("add_global_search", "refresh_windows", "build_new", "assignments"):
		phase(batch.BatchWriter, name)
	phase(batch, "apply_stale")
	phase(batch, "reserve_names")
	phase(batch, "execute", "execute (INSERTs, with read-ahead)")
	phase(runner.ImportRun, "parse")
	phase(runner.ImportRun, "_record_batch")
	phase(runner, "record_import_versions")
	phase(runner.ImportRun, "publish_progress")
	phase(writer.GlobalSearchWriter, "wait", "wait for the search thread")
	import frappe

	phase(frappe.db.__class__, "commit")

	write_batch = runner.ImportRun.write_batch

	def traced_batch(self, batch_no, *args, **kwargs):
		_state["batch"] = batch_no
		started = time.perf_counter()
		try:
			return write_batch(self, batch_no, *args, **kwargs)
		finally:
			_add("batch (whole)", time.perf_counter() - started)

	runner.ImportRun.write_batch = traced_batch


def reset():
	_seconds.clear()
	_state["batch"] = 0


def report(top: int = 28):
	batches = sorted(b for b in _seconds if b)
	if not batches:
		return
	span = max(1, min(5, len(batches) // 3))
	early, late = batches[:span], batches[-span:]

	def mean(keys, key):
		return sum(_seconds[b].get(key, 0.0) for b in keys) / len(keys)

	keys = {k for b in batches for k in _seconds[b]}
	rows = sorted(keys, key=lambda k: -mean(batches, k))[:top]
	print(f"per batch, seconds: batches {early[0]}-{early[-1]} (early) vs {late[0]}-{late[-1]} (late)")
	for key in rows:
		e, last = mean(early, key), mean(late, key)
		print(f"  {e:7.3f} {last:7.3f}  x{(last / e) if e else 0:5.2f}  {key}")


def floor(import_name: str, rounds: int = 1) -> None:
	"""The database's own cost of storing what the run stored: the same rows, read back, sent again as
	multi-row INSERTs of 500 (as the importer's writer sends them) in transactions of 2,500 into empty
	copies of each table (same columns, same indexes), and into a copy of `tabOpportunity` with only its
	primary key. Prints seconds per 2,500 rows for each table."""
	import json

	import frappe

	from opportunity_suite.services.importing.writer import _value_statements, execute

	names = []
	for batch in frappe.get_all("Opportunity Import Batch", {"import_run": import_name}, ["created_records"]):
		names += json.loads(batch.created_records or "{}").get("Opportunity", [])
	if not names:
		return
	tables = {
		"tabOpportunity": "name",
		"tabToDo": "reference_name",
		"tabOpportunity Stage History": "opportunity",
		"__global_search": "name",
		"__opportunity_search": "name",
	}
	results = {}
	for table, key in tables.items():
		variants = [("", table)]
		if table == "tabOpportunity":
			variants.append((" (primary key only)", table))
		for label, source in variants:
			copy = "_floor_copy"
			frappe.db.sql_ddl(f"drop table if exists `{copy}`")
			frappe.db.sql_ddl(f"create table `{copy}` like `{source}`")
			if label:
				for index in {i.Key_name for i in frappe.db.sql(f"show index from `{copy}`", as_dict=True)}:
					if index != "PRIMARY":
						frappe.db.sql_ddl(f"alter table `{copy}` drop index `{index}`")
			columns = (
				frappe.db.get_table_columns(source.removeprefix("tab"))
				if source.startswith("tab")
				else [c[0] for c in frappe.db.sql(f"show columns from `{source}`")]
			)
			head = f"INSERT INTO `{copy}` ({', '.join(f'`{c}`' for c in columns)}) VALUES "
			seconds = 0.0
			for start in range(0, len(names), 2500):
				chunk = names[start : start + 2500]
				rows = frappe.db.sql(
					f"select {', '.join(f'`{c}`' for c in columns)} from `{source}` where `{key}` in %(n)s",
					{"n": chunk},
					as_list=True,
				)
				frappe.db.commit()
				started = time.perf_counter()
				execute(_value_statements(head, rows))
				frappe.db.commit()
				seconds += time.perf_counter() - started
			frappe.db.sql_ddl(f"drop table if exists `{copy}`")
			results[table + label] = seconds / max(1, len(names) / 2500)
	print("the database's own insert cost (seconds per 2,500 rows, plain multi-row INSERTs into a copy):")
	for table, seconds in results.items():
		print(f"  {seconds:7.3f}  {table}")
	print(f"  {sum(s for t, s in results.items() if 'primary key only' not in t):7.3f}  all of them")
