"""Export benchmark: 100,000 opportunities through Frappe's report-view export (the path the list and
report views use), CSV and Excel, with the app's formula neutralisation active.

The rows are made with Opportunity Import's runner (inline, no worker) and deleted afterwards.
Run from the bench's `sites/` folder with the bench's Python:
	../env/bin/python /path/to/opportunity_suite/bench/export_benchmark.py --site test.opportunity.localhost
"""

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import frappe

from bench.data import write_csv
from bench.import_benchmark import cleanup, connect, new_file


def export(doctype_fields: list[str], tag: str, file_format_type: str) -> tuple[float, int]:
	from frappe.handler import execute_cmd

	frappe.local.response = frappe._dict(docs=[])
	frappe.local.form_dict = frappe._dict(
		doctype="Opportunity",
		fields=json.dumps(doctype_fields),
		filters=json.dumps([["Opportunity", "description", "like", f"%{tag}%"]]),
		file_format_type=file_format_type,
		title="Opportunity",
	)
	frappe.local.request = SimpleNamespace(method="POST")
	started = time.perf_counter()
	execute_cmd("frappe.desk.reportview.export_query")
	elapsed = time.perf_counter() - started
	return elapsed, len(frappe.local.response["filecontent"])


def main():
	parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
	parser.add_argument("--site", default=os.environ.get("OS_TEST_SITE", "test.opportunity.localhost"))
	parser.add_argument("--rows", type=int, default=100_000)
	args = parser.parse_args()
	connect(args.site)
	from opportunity_suite.services.importing import jobs

	tag = frappe.generate_hash(length=8)
	path = str(Path(tempfile.mkdtemp()) / f"export-bench-{tag}.csv")
	write_csv(path, args.rows, description_tag=tag)
	doc = frappe.get_doc({"doctype": "Opportunity Import", "import_file": new_file(path)}).insert()
	jobs.prepare(doc)
	token = jobs.start(doc, enqueue=False)
	frappe.db.commit()
	print(f"making {args.rows:,} opportunities ...", flush=True)
	jobs.run_import_job(doc.name, token)
	try:
		fields = [
			f"`tabOpportunity`.`{f}`"
			for f in (
				"name",
				"opportunity_name",
				"amount",
				"sales_stage",
				"probability",
				"forecast_amount",
				"expected_close_date",
				"status",
				"assigned_to",
				"campaign",
				"next_step",
			)
		]
		for kind in ("CSV", "Excel"):
			seconds, size = export(fields, tag, kind)
			print(
				f"{kind} export of {args.rows:,} rows: {seconds:.1f} s = {args.rows / seconds:,.0f} rows/s, {size / 2**20:.1f} MB",
				flush=True,
			)
		print(f"load average: {os.getloadavg()}")
	finally:
		cleanup([doc.name], [], tag)
		os.remove(path)
		frappe.destroy()


if __name__ == "__main__":
	main()
