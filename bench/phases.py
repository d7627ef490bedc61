"""Where an in-process import's time goes, phase by phase, without a profiler's overhead (cProfile
doubles the cost of Frappe's many small calls): each phase's CPU and wall time summed over the run, and
the CPU in ms per row. Phases nest (`contacts.prepare._validate` is part of `contacts.prepare`, which is
part of `contacts.match`); `db.sql` counts `frappe.db.sql` calls (the multi-row INSERTs go around it:
`contacts.write.execute`). Used by `import_benchmark.py --phases`."""

import collections
import functools
import time

TIMES: dict[str, list] = collections.defaultdict(lambda: [0.0, 0.0, 0])


def _wrap(owner, attr: str, label: str):
	fn = getattr(owner, attr)

	@functools.wraps(fn)
	def timed(*args, **kwargs):
		cpu, wall = time.process_time(), time.perf_counter()
		try:
			return fn(*args, **kwargs)
		finally:
			entry = TIMES[label]
			entry[0] += time.process_time() - cpu
			entry[1] += time.perf_counter() - wall
			entry[2] += 1

	setattr(owner, attr, timed)


def install():
	"""Time the phases of this process's imports from now on."""
	from frappe.database.database import Database
	from frappe.model.document import Document

	from opportunity_suite.services import totals
	from opportunity_suite.services.importing import batch, documents, organizations, runner
	from opportunity_suite.services.importing import vcard_contacts as vc

	for owner, attr, label in [
		(runner.ImportRun, "write_batch", "batch"),
		(runner.ImportRun, "parse", "batch.parse (cells → values)"),
		(batch.BatchWriter, "insert_new", "batch.insert_new (new records, contacts.match included)"),
		(batch.BatchWriter, "write_history", "batch.write_history"),
		(totals, "refresh", "batch.totals"),
		(vc.BatchContacts, "match", "contacts.match"),
		(organizations, "ensure", "contacts.match.organizations"),
		(vc.BatchContacts, "_existing_contacts", "contacts.match.existing"),
		(documents.NewDocuments, "new", "contacts.get_doc"),
		(documents.NewDocuments, "prepare", "contacts.prepare"),
		(documents.NewDocuments, "set_defaults", "contacts.prepare.set_defaults"),
		(Document, "_validate", "contacts.prepare._validate"),
		(vc.BatchContacts, "attach", "contacts.attach (names)"),
		(vc.BatchContacts, "write", "contacts.write"),
		(documents, "rows_of", "contacts.write.rows_of"),
		(vc, "execute", "contacts.write.execute"),
		(vc.BatchContacts, "_global_search", "contacts.write.global_search"),
		(Database, "sql", "db.sql"),
	]:
		_wrap(owner, attr, label)


def reset():
	TIMES.clear()


def report(rows: int) -> str:
	lines = []
	for label in sorted(TIMES):
		cpu, wall, calls = TIMES[label]
		lines.append(
			f"  {label:58s} CPU {cpu:7.2f} s = {1000 * cpu / rows:6.3f} ms/row; wall {wall:7.2f} s; "
			f"{calls:,} calls"
		)
	return "\n".join(lines)
