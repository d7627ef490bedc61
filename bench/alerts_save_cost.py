"""Median cost of one Opportunity save with 0, 10 and 100 enabled alert rules, against no alert hook at all.

Run with the bench's Python from its sites/ folder (as the tests do):
	cd $OS_BENCH_DIR/sites && OS_BENCH_DIR=$OS_BENCH_DIR ../env/bin/python /path/to/bench/alerts_save_cost.py

Each scenario saves one opportunity SAVES (1000) times (a changed amount each time), in 10 interleaved rounds,
and reports the median and the 90th percentile. The rules are "Every Save" rules with two conditions that
are false (amount > 10^12), so the figures are the cost of looking rules up and evaluating them; "firing"
adds 10 rules whose conditions hold and that each write a Notification Log and an Alert Log. Everything is
rolled back at the end, and the rules (committed, so that they are cached as a user's rules are) deleted:
the site is left as it was (if interrupted, run it again: it deletes its rules first; the rule cache
expires by itself within 10 minutes)."""

import os
import random
import statistics
import sys
import time
from pathlib import Path

import frappe

SAVES = int(os.environ.get("ALERTS_BENCH_SAVES", 1000))
BENCH_DIR = Path(os.environ.get("OS_BENCH_DIR", Path.home() / "opportunity-suite-bench")).expanduser()
SITE = os.environ.get("OS_TEST_SITE", "test.opportunity.localhost")
ROUNDS = 50
HOOK_CALLS = int(os.environ.get("ALERTS_BENCH_HOOK_CALLS", 10_000))
FIRING_SAVES = int(os.environ.get("ALERTS_BENCH_FIRING_SAVES", 100))
SCENARIOS = [  # label, alert hook on, kind of rules, enabled rules, saves
	("no alert hook", False, "false", 0, SAVES),
	("hook, 0 rules", True, "false", 0, SAVES),
	("hook, 10 rules", True, "false", 10, SAVES),
	("hook, 100 rules", True, "false", 100, SAVES),
	# each firing writes 10 Notification Logs (and their emails) and 10 Alert Logs: fewer saves
	("hook, 10 rules all firing", True, "firing", 10, FIRING_SAVES),
]
HANDLERS = ("opportunity_suite.events.alerts.after_insert", "opportunity_suite.events.alerts.on_update")


def connect():
	os.chdir(BENCH_DIR / "sites")
	frappe.init(site=SITE, sites_path=str(BENCH_DIR / "sites"))
	frappe.connect()
	frappe.set_user("Administrator")
	frappe.flags.mute_emails = True  # the firing scenario's notifications queue mail without an account


def set_alert_hook(enabled: bool):
	"""Frappe reads doc_events once per process into frappe.local.doc_events_hooks: drop ours or restore."""
	if hasattr(frappe.local, "doc_events_hooks"):
		del frappe.local.doc_events_hooks
	hooks = frappe.get_doc_hooks()
	if enabled:
		return
	trimmed = {}
	for doctype, events in hooks.items():
		trimmed[doctype] = {
			event: [m for m in methods if m not in HANDLERS] for event, methods in events.items()
		}
	frappe.local.doc_events_hooks = trimmed


def delete_rules():
	for name in frappe.get_all("Alert Rule", filters={"rule_name": ("like", "bench-rule-%")}, pluck="name"):
		frappe.delete_doc("Alert Rule", name, force=True)
	frappe.db.commit()


def make_rules():
	"""100 rules whose condition is false and 10 whose condition holds, all disabled to begin with;
	committed (as a user's rules would be), and deleted at the end."""
	delete_rules()
	for kind, count, threshold in (("false", 100, "1000000000000"), ("firing", 10, "0")):
		for i in range(count):
			frappe.get_doc(
				{
					"doctype": "Alert Rule",
					"rule_name": f"bench-rule-{kind}-{i:03d}",
					"document_type": "Opportunity",
					"enabled": 0,
					"trigger": "Every Save",
					"conditions": [
						{"fieldname": "amount", "operator": "Greater Than", "value": threshold},
						{"fieldname": "status", "operator": "Not In", "value": "Won, Lost"},
					],
					"actions": [
						{
							"action_type": "Notification",
							"recipient_users": "Administrator",
							"subject": "{{ doc.name }}",
						}
					],
				}
			).insert()
	frappe.db.commit()


def enable_rules(kind: str, count: int):
	"""Enable exactly `count` rules of a kind (the others off), as a user would, and clear the rule cache."""
	from opportunity_suite.services.alerts import clear_rules_cache, get_rules

	rule = frappe.qb.DocType("Alert Rule")
	frappe.qb.update(rule).set(rule.enabled, 0).where(rule.rule_name.like("bench-rule-%")).run()
	names = [f"bench-rule-{kind}-{i:03d}" for i in range(count)]
	if names:
		frappe.qb.update(rule).set(rule.enabled, 1).where(rule.rule_name.isin(names)).run()
	clear_rules_cache()
	assert len(get_rules("Opportunity")) == count


def time_saves(doc, saves: int) -> list[float]:
	timings = []
	for i in range(saves):
		doc.amount = 1000 + i
		start = time.perf_counter()
		doc.save()
		timings.append(time.perf_counter() - start)
	return timings


def hook_cost(doc, rules: int):
	"""Median time of the doc_events handler alone over HOOK_CALLS calls (in blocks of 100)."""
	from opportunity_suite.events.alerts import on_update

	on_update(doc)  # fills the rule cache
	blocks = []
	for _block in range(HOOK_CALLS // 100):
		start = time.perf_counter()
		for _call in range(100):
			on_update(doc)
		blocks.append((time.perf_counter() - start) / 100)
	print(f"  {rules:>3} rules: median {statistics.median(blocks) * 1e6:8.1f} µs per save", flush=True)


def report(label: str, timings: list[float], baseline: float | None):
	label = f"{label} ({len(timings)} saves)"
	median = statistics.median(timings) * 1000
	p90 = statistics.quantiles(timings, n=10)[-1] * 1000
	extra = f"  ({median - baseline:+.3f} ms vs no hook)" if baseline is not None else ""
	print(f"{label:<40} median {median:7.3f} ms   p90 {p90:7.3f} ms{extra}", flush=True)
	return median


def run():
	connect()
	frappe.db.rollback()
	make_rules()
	try:
		doc = frappe.get_doc(
			{
				"doctype": "Opportunity",
				"opportunity_name": "Alert benchmark",
				"sales_stage": "Prospecting",
				"expected_close_date": frappe.utils.add_days(frappe.utils.today(), 30),
				"amount": 1000,
			}
		).insert()
		print(f"One Opportunity saved repeatedly, site {SITE}, Frappe {frappe.__version__}", flush=True)
		time_saves(doc, 50)  # warm-up: caches, meta, prepared statements
		timings = {label: [] for label, *_rest in SCENARIOS}
		# interleaved rounds in shuffled order: the machine's load and the growing transaction weigh on
		# every scenario alike
		shuffler = random.Random(5)
		for _round in range(ROUNDS):
			for label, hook, kind, count, saves in shuffler.sample(SCENARIOS, len(SCENARIOS)):
				enable_rules(kind, count)
				set_alert_hook(hook)
				timings[label] += time_saves(doc, saves // ROUNDS)
		baseline = None
		for label, *_rest in SCENARIOS:
			median = report(label, timings[label], baseline)
			if baseline is None:
				baseline = median
		print("The alert hook alone (on_update of a saved opportunity, no database write):", flush=True)
		set_alert_hook(True)
		doc.load_doc_before_save()
		for count in (0, 10, 100):
			enable_rules("false", count)
			hook_cost(doc, count)
	finally:
		frappe.db.rollback()  # the opportunity, its saves, logs and notifications
		set_alert_hook(True)
		delete_rules()
		frappe.destroy()


if __name__ == "__main__":
	sys.exit(run())
