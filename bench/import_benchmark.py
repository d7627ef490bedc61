"""Import benchmark: Opportunity Import vs Frappe's Data Import, in one run.

Builds a realistic 100,000-row CSV (and a 20,000-card VCF), imports the CSV with Opportunity Import
through a real `bench worker` on the `long` queue (timed from enqueue to Completed, with the worker's
peak memory), imports a 10,000-row slice of the same rows with Frappe's Data Import, and prints rows/s
for each and the ratio. Everything it creates is deleted afterwards (unless --keep).

`--how in-process` (or `both`) runs each import's job in this process (no worker start, no queue: the
job's own time and CPU), `--phases` prints each phase's CPU in ms per row (bench/phases.py, no profiler
overhead), `--profile DIR` profiles those runs with cProfile (`DIR/<file>.prof`, the top functions
printed). `--vcf-cards` takes several sizes (`--vcf-cards 5000 20000`).

Run from the bench's `sites/` folder with the bench's Python:
	../env/bin/python /path/to/opportunity_suite/bench/import_benchmark.py --site test.opportunity.localhost
"""

import argparse
import cProfile
import io
import json
import os
import pstats
import sys
import tempfile
import threading
import time
from itertools import pairwise
from pathlib import Path

APP_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(APP_ROOT))

import frappe  # noqa: E402

from bench import import_trace, phases  # noqa: E402
from bench.data import write_csv, write_vcf  # noqa: E402
from tests.processes import BenchProcess  # noqa: E402


def connect(site: str):
	frappe.init(site=site, sites_path=".")
	frappe.connect()
	frappe.set_user("Administrator")


def new_file(path: str) -> str:
	file = frappe.get_doc(
		{
			"doctype": "File",
			"file_name": os.path.basename(path),
			"content": Path(path).read_bytes(),
			"is_private": 1,
		}
	).insert()
	return file.file_url


class PeakMemory:
	"""Samples the RSS of a process tree (the worker and its work horse) every 50 ms."""

	def __init__(self, pid: int):
		import psutil

		self.root = psutil.Process(pid)
		self.peak = 0
		self.running = True
		self.thread = threading.Thread(target=self._sample, daemon=True)
		self.thread.start()

	def _sample(self):
		import psutil

		while self.running:
			try:
				for process in [self.root, *self.root.children(recursive=True)]:
					self.peak = max(self.peak, process.memory_info().rss)
			except psutil.Error:
				pass
			time.sleep(0.05)

	def stop(self) -> int:
		self.running = False
		self.thread.join()
		return self.peak


def opportunity_import(path: str, bench_dir: Path, **settings) -> dict:
	from opportunity_suite.services.importing import jobs

	doc = frappe.get_doc(
		{"doctype": "Opportunity Import", "import_file": new_file(path), **settings}
	).insert()
	jobs.prepare(doc)
	frappe.db.commit()
	worker = BenchProcess(
		"benchmark-worker", ["bench", "worker", "--queue", "long"], bench_dir, bench_dir / "logs"
	)
	time.sleep(3)  # let the worker start before the clock does
	_drain("long")  # jobs others queued (a migrate's website index: 13 s each) are not the import's time
	memory = PeakMemory(worker.pid)
	try:
		started = time.perf_counter()
		jobs.start(doc)
		frappe.db.commit()  # enqueued here
		while True:
			frappe.db.rollback()
			state = frappe.db.get_value(
				"Opportunity Import",
				doc.name,
				["status", "rows_read", "created_count", "failed_count", "error"],
				as_dict=True,
			)
			if state.status not in ("Queued", "Running"):
				break
			time.sleep(0.05)
		elapsed = time.perf_counter() - started
	finally:
		peak = memory.stop()
		worker.stop()
	return {"name": doc.name, "seconds": elapsed, "peak_rss_mb": peak / 2**20, **state}


def _drain(queue_name: str, limit: float = 900):
	"""Wait until the worker has run the jobs queued before ours (none queued, none running)."""
	from frappe.utils.background_jobs import get_queue

	queue, deadline, waited = get_queue(queue_name), time.monotonic() + limit, False
	while (queue.count or queue.started_job_registry.count) and time.monotonic() < deadline:
		waited = True
		time.sleep(0.2)
	if queue.count or queue.started_job_registry.count:
		print(
			f"(jobs others queued on {queue_name} still run after {limit:.0f} s: they count too)", flush=True
		)
	elif waited:
		print(f"(waited for the jobs already queued on {queue_name} to run first)", flush=True)


def batch_seconds(import_name: str) -> str:
	"""Seconds per batch early in the run and late (from the batches' checkpoint stamps)."""
	from frappe.utils import get_datetime

	stamps = [
		get_datetime(c)
		for c in frappe.get_all(
			"Opportunity Import Batch", {"import_run": import_name}, pluck="creation", order_by="batch_no"
		)
	]
	gaps = [(b - a).total_seconds() for a, b in pairwise(stamps)]
	if len(gaps) < 4:
		return "too few batches to compare"
	span = max(1, min(5, len(gaps) // 3))
	return (
		f"s/batch early {sum(gaps[:span]) / span:.2f}, late {sum(gaps[-span:]) / span:.2f} "
		f"({len(stamps)} batches, max {max(gaps):.2f})"
	)


def opportunity_import_in_process(
	path: str,
	profile_to: str | None = None,
	totals: bool = True,
	outcomes: bool = True,
	trace: bool = False,
	**settings,
) -> dict:
	"""The import's job run in this process, timed from its start to its end (wall and CPU). `totals`
	False: without keeping the pre-aggregated totals (services/totals/), to measure what that costs;
	`outcomes` False: the same for the closed deals' summary (services/outcome_totals.py) alone."""
	from opportunity_suite.services.importing import jobs

	doc = frappe.get_doc(
		{"doctype": "Opportunity Import", "import_file": new_file(path), **settings}
	).insert()
	jobs.prepare(doc)
	token = jobs.start(doc, enqueue=False)
	frappe.db.commit()
	profile = cProfile.Profile() if profile_to else None
	phases.reset()
	if trace:
		import_trace.install()
		import_trace.reset()
	started, cpu = time.perf_counter(), time.process_time()
	if profile:
		profile.enable()
	frappe.local.flags.opportunity_totals_ready = None if totals else False
	frappe.local.flags.outcome_totals_ready = None if outcomes else False
	try:
		jobs.run_import_job(doc.name, token)
	finally:
		frappe.local.flags.opportunity_totals_ready = frappe.local.flags.outcome_totals_ready = None
		if profile:
			profile.disable()
	elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
	if trace:
		import_trace.report()
	if profile:
		profile.dump_stats(profile_to)
		out = io.StringIO()
		pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(40)
		print(out.getvalue(), flush=True)
	state = frappe.db.get_value(
		"Opportunity Import",
		doc.name,
		["status", "rows_read", "created_count", "failed_count", "error"],
		as_dict=True,
	)
	if phases.TIMES:
		print(phases.report(state.rows_read or 1), flush=True)
	return {"name": doc.name, "seconds": elapsed, "cpu_seconds": cpu, **state}


def data_import(path: str) -> dict:
	doc = frappe.get_doc(
		{"doctype": "Data Import", "reference_doctype": "Opportunity", "import_type": "Insert New Records"}
	)
	doc.insert()
	doc.import_file = new_file(path)
	doc.save()
	frappe.db.commit()
	frappe.flags.in_test = True  # Frappe runs Data Import inline in tests and developer mode
	started = time.perf_counter()
	doc.start_import()
	elapsed = time.perf_counter() - started
	frappe.flags.in_test = False
	doc.reload()
	return {"name": doc.name, "seconds": elapsed, "status": doc.status}


def cleanup(import_names: list[str], data_import_names: list[str], tag: str):
	from opportunity_suite.services import search, totals

	for name in import_names:
		for batch in frappe.get_all("Opportunity Import Batch", {"import_run": name}, ["created_records"]):
			records = json.loads(batch.created_records or "{}")
			names = records.get("Opportunity", [])
			for start in range(0, len(names), 5000):
				frappe.db.delete("Opportunity", {"name": ("in", names[start : start + 5000])})
				totals.refresh(names[start : start + 5000])  # the totals without them (if they counted)
				frappe.db.delete(
					"__global_search", {"doctype": "Opportunity", "name": ("in", names[start : start + 5000])}
				)
				frappe.db.delete(
					"ToDo",
					{"reference_type": "Opportunity", "reference_name": ("in", names[start : start + 5000])},
				)
				# their stage history (new deals end no stay: the Time in Stage summary is unchanged) and
				# search windows
				frappe.db.delete(
					"Opportunity Stage History", {"opportunity": ("in", names[start : start + 5000])}
				)
				search.forget(names[start : start + 5000])
			contacts = records.get("Contact", [])
			for start in range(0, len(contacts), 5000):
				chunk = contacts[start : start + 5000]
				for child in ("Contact Email", "Contact Phone", "Dynamic Link"):
					frappe.db.delete(child, {"parenttype": "Contact", "parent": ("in", chunk)})
				frappe.db.delete("Contact", {"name": ("in", chunk)})
				frappe.db.delete("__global_search", {"doctype": "Contact", "name": ("in", chunk)})
			organizations = records.get("Organization", [])
			for start in range(0, len(organizations), 5000):  # not delete_doc: it queues a job per record
				chunk = organizations[start : start + 5000]
				frappe.db.delete("Dynamic Link", {"link_doctype": "Organization", "link_name": ("in", chunk)})
				frappe.db.delete("Organization", {"name": ("in", chunk)})
				frappe.db.delete("__global_search", {"doctype": "Organization", "name": ("in", chunk)})
			frappe.db.commit()
		frappe.db.delete("Opportunity Import Batch", {"import_run": name})
		frappe.db.delete("Opportunity Import Column", {"parent": name})
		frappe.db.delete("Opportunity Import", {"name": name})
	for name in data_import_names:
		frappe.db.delete("Data Import Log", {"data_import": name})
		frappe.db.delete("Data Import", {"name": name})
	opportunities = frappe.get_all("Opportunity", {"description": ("like", f"%{tag}%")}, pluck="name")
	for start in range(0, len(opportunities), 5000):
		chunk = opportunities[start : start + 5000]
		frappe.db.delete("Opportunity", {"name": ("in", chunk)})
		frappe.db.delete("__global_search", {"doctype": "Opportunity", "name": ("in", chunk)})
		# what Data Import's saves made beside them: assignments and their timeline comments
		frappe.db.delete("ToDo", {"reference_type": "Opportunity", "reference_name": ("in", chunk)})
		frappe.db.delete("Comment", {"reference_doctype": "Opportunity", "reference_name": ("in", chunk)})
		frappe.db.delete("Opportunity Stage History", {"opportunity": ("in", chunk)})
		search.forget(chunk)
	frappe.db.commit()


def profile_path(args, what: str) -> str | None:
	if not args.profile:
		return None
	os.makedirs(args.profile, exist_ok=True)
	return os.path.join(args.profile, f"{what}.prof")


def main():
	parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
	parser.add_argument("--site", default=os.environ.get("OS_TEST_SITE", "test.opportunity.localhost"))
	parser.add_argument("--rows", type=int, default=100_000, help="0 to skip the CSV imports")
	parser.add_argument("--data-import-rows", type=int, default=10_000, help="0 to skip Data Import")
	parser.add_argument(
		"--vcf-cards", type=int, nargs="+", default=[20_000], help="card counts; 0 to skip the vCard import"
	)
	parser.add_argument(
		"--how",
		choices=("worker", "in-process", "both"),
		default="worker",
		help="run the imports through a worker, in this process, or both (one after the other)",
	)
	parser.add_argument("--profile", metavar="DIR", help="cProfile the in-process runs into DIR")
	parser.add_argument(
		"--phases", action="store_true", help="in process: CPU ms per row of each phase (bench/phases.py)"
	)
	parser.add_argument(
		"--trace",
		action="store_true",
		help="in process: seconds per batch by statement and phase, early vs late",
	)
	parser.add_argument(
		"--floor", action="store_true", help="in process: the database's own insert cost of the same rows"
	)
	parser.add_argument("--keep", action="store_true", help="keep the imported records")
	parser.add_argument(
		"--totals-cost",
		action="store_true",
		help="in process: import the CSV without and with the pre-aggregated totals' upkeep, twice each",
	)
	parser.add_argument(
		"--outcomes-cost",
		action="store_true",
		help="in process: the same for the closed deals' summary (services/outcome_totals.py) alone",
	)
	args = parser.parse_args()

	bench_dir = Path.cwd().parent
	connect(args.site)
	if args.phases:
		phases.install()
	tag = frappe.generate_hash(length=8)
	tmp = Path(tempfile.mkdtemp(prefix="os-import-bench-"))
	csv_path = str(tmp / f"opportunities-{tag}.csv")
	slice_path = str(tmp / f"opportunities-slice-{tag}.csv")
	if args.rows:
		print(f"building {args.rows:,} rows ...", flush=True)
		write_csv(csv_path, args.rows, description_tag=tag)
		write_csv(slice_path, args.data_import_rows, seed=43, description_tag=tag)
		print(f"CSV: {os.path.getsize(csv_path) / 2**20:.1f} MB", flush=True)

	imports, data_imports = [], []
	vcf_paths = []
	try:
		if args.rows:
			fast_rate = None
			if args.how in ("worker", "both"):
				fast = opportunity_import(csv_path, bench_dir)
				imports.append(fast["name"])
				fast_rate = args.rows / fast["seconds"]
				print(
					f"Opportunity Import: {args.rows:,} rows enqueue→{fast['status']} in {fast['seconds']:.1f} s "
					f"= {fast_rate:,.0f} rows/s (created {fast['created_count']:,}, failed "
					f"{fast['failed_count']:,}); worker peak RSS {fast['peak_rss_mb']:.0f} MB; "
					f"load {os.getloadavg()[0]:.2f}; {batch_seconds(fast['name'])}",
					flush=True,
				)
			if args.how in ("in-process", "both"):
				inline = opportunity_import_in_process(csv_path, profile_path(args, "csv"), trace=args.trace)
				imports.append(inline["name"])
				fast_rate = fast_rate or args.rows / inline["seconds"]
				if args.floor:
					import_trace.floor(inline["name"])
				print(
					f"Opportunity Import in process: {args.rows:,} rows ({inline['status']}) in "
					f"{inline['seconds']:.1f} s ({inline['cpu_seconds']:.1f} s CPU) = "
					f"{args.rows / inline['seconds']:,.0f} rows/s; load {os.getloadavg()[0]:.2f}; "
					f"{batch_seconds(inline['name'])}",
					flush=True,
				)
			if args.totals_cost:
				for keep in (False, True, False, True):
					run = opportunity_import_in_process(csv_path, totals=keep)
					imports.append(run["name"])
					print(
						f"Opportunity Import in process, totals {'kept' if keep else 'not kept'}: "
						f"{args.rows:,} rows ({run['status']}) in {run['seconds']:.1f} s = "
						f"{args.rows / run['seconds']:,.0f} rows/s; load {os.getloadavg()[0]:.2f}",
						flush=True,
					)
			if args.outcomes_cost:
				for keep in (False, True, False, True):
					run = opportunity_import_in_process(csv_path, outcomes=keep)
					imports.append(run["name"])
					print(
						f"Opportunity Import in process, outcomes {'kept' if keep else 'not kept'}: "
						f"{args.rows:,} rows ({run['status']}) in {run['seconds']:.1f} s = "
						f"{args.rows / run['seconds']:,.0f} rows/s; load {os.getloadavg()[0]:.2f}",
						flush=True,
					)
			if args.data_import_rows:
				slow = data_import(slice_path)
				data_imports.append(slow["name"])
				slow_rate = args.data_import_rows / slow["seconds"]
				print(
					f"Frappe Data Import: {args.data_import_rows:,} rows ({slow['status']}) in {slow['seconds']:.1f} s = "
					f"{slow_rate:,.0f} rows/s",
					flush=True,
				)
				print(f"ratio: {fast_rate / slow_rate:.1f}x", flush=True)

		for count in (c for c in args.vcf_cards if c):
			runs = [("worker", False), ("in process", True)]
			runs = [r for r in runs if args.how == "both" or r[0].replace(" ", "-") == args.how]
			for how, in_process in runs:
				# a file of its own each time: cards whose e-mail an earlier run imported make no contact
				vcf_path = str(tmp / f"cards-{tag}-{count}-{len(vcf_paths)}.vcf")
				vcf_paths.append(vcf_path)
				write_vcf(vcf_path, count, email_tag=f"{tag}{len(vcf_paths)}")
				settings = {
					"defaults": json.dumps(
						{
							"sales_stage": "Prospecting",
							"expected_close_date": "2027-06-30",
							"description": tag,
						}
					)
				}
				if in_process:
					cards = opportunity_import_in_process(
						vcf_path, profile_path(args, f"vcf-{count}"), **settings
					)
				else:
					cards = opportunity_import(vcf_path, bench_dir, **settings)
				imports.append(cards["name"])
				extra = (
					f"{cards['cpu_seconds']:.1f} s CPU"
					if in_process
					else f"worker peak RSS {cards['peak_rss_mb']:.0f} MB"
				)
				print(
					f"vCard import ({how}): {count:,} cards → contacts + opportunities ({cards['status']}, "
					f"created {cards['created_count']:,}, failed {cards['failed_count']:,}) in "
					f"{cards['seconds']:.1f} s = {count / cards['seconds']:,.0f} cards/s; {extra}; "
					f"load {os.getloadavg()[0]:.2f}",
					flush=True,
				)
		print(f"load average: {os.getloadavg()}")
	finally:
		if not args.keep:
			cleanup(imports, data_imports, tag)
		for path in (csv_path, slice_path, *vcf_paths):
			if os.path.exists(path):
				os.remove(path)
		frappe.destroy()


if __name__ == "__main__":
	main()
