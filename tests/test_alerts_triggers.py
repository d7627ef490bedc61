"""Trigger modes: first save, until first true (per-record memory), every save, every modification."""

import frappe

from opportunity_suite.services.alerts import changed_fields, get_rules
from tests.alerts_fixtures import alert_logs, make_rule
from tests.factories import make_opportunity

BIG = [("amount", "Greater Than", "10000")]


def fired(rule, opportunity) -> int:
	return len(alert_logs(rule.name, reference_name=opportunity.name))


def test_on_first_save_fires_on_creation_only():
	rule = make_rule(conditions=BIG, trigger="On First Save")
	big = make_opportunity(amount=15000)
	small = make_opportunity(amount=5000)
	assert fired(rule, big) == 1
	assert fired(rule, small) == 0
	small.amount = 20000
	small.save()
	big.next_step = "Call"
	big.save()
	assert fired(rule, small) == 0
	assert fired(rule, big) == 1


def test_until_first_true_fires_once_per_record_across_saves_and_a_refetch():
	rule = make_rule(conditions=BIG, trigger="Until First True")
	opportunity = make_opportunity(amount=5000)
	assert fired(rule, opportunity) == 0  # not true yet
	opportunity.amount = 12000
	opportunity.save()
	assert fired(rule, opportunity) == 1  # first time true
	opportunity.amount = 13000
	opportunity.save()
	assert fired(rule, opportunity) == 1  # still true: never again
	# a fresh copy of the record and an empty rule cache (as after a restart): the Alert Log remembers
	frappe.clear_cache()
	again = frappe.get_doc("Opportunity", opportunity.name)
	again.amount = 5000
	again.save()
	again.amount = 20000
	again.save()
	assert fired(rule, again) == 1
	# the memory is per record: another record fires on its own
	other = make_opportunity(amount=11000)
	assert fired(rule, other) == 1


def test_every_save_fires_on_creation_and_each_save_even_without_changes():
	rule = make_rule(conditions=BIG, trigger="Every Save")
	opportunity = make_opportunity(amount=15000)
	assert fired(rule, opportunity) == 1
	opportunity.save()  # nothing changed
	assert fired(rule, opportunity) == 2
	opportunity.next_step = "Send the proposal"
	opportunity.save()
	assert fired(rule, opportunity) == 3


def test_every_modification_fires_only_when_a_value_changed():
	rule = make_rule(conditions=BIG, trigger="Every Modification")
	opportunity = make_opportunity(amount=15000)
	assert fired(rule, opportunity) == 0  # creation is not a modification
	opportunity.save()  # saved, nothing changed (modified / modified_by move, nothing else)
	assert fired(rule, opportunity) == 0
	opportunity.next_step = "Demo"
	opportunity.save()
	assert fired(rule, opportunity) == 1
	opportunity.save()
	assert fired(rule, opportunity) == 1


def test_modified_vs_saved_side_by_side():
	every_save = make_rule(trigger="Every Save")
	every_modification = make_rule(trigger="Every Modification")
	opportunity = make_opportunity(amount=100)
	for _i in range(3):
		opportunity.save()
	opportunity.amount = 200
	opportunity.save()
	assert fired(every_save, opportunity) == 5  # creation + 4 saves
	assert fired(every_modification, opportunity) == 1  # the one that changed the amount


def test_derived_and_bookkeeping_fields_are_not_a_modification():
	opportunity = make_opportunity(amount=100, probability=50)
	before = frappe.get_doc("Opportunity", opportunity.name)
	opportunity.forecast_amount = 999
	opportunity.base_amount = 999
	opportunity.status = "Won"
	opportunity.modified_by = "Guest"
	assert changed_fields(opportunity, before) == []
	opportunity.amount = "100.0"
	opportunity.expected_close_date = str(before.expected_close_date)
	assert changed_fields(opportunity, before) == []
	opportunity.amount = 101
	assert changed_fields(opportunity, before) == ["amount"]


def test_bulk_recompute_fires_no_rule():
	from opportunity_suite.services.recompute import _write_batch

	rule = make_rule(trigger="Every Save")
	opportunity = make_opportunity(amount=100)
	_write_batch([(opportunity.name, 1.0, 1.0)])  # the recompute's write: no controller, no rule
	assert fired(rule, opportunity) == 1


def test_disabled_rules_and_other_doctypes_do_not_fire():
	rule = make_rule(trigger="Every Save", enabled=0)
	opportunity = make_opportunity(amount=15000)
	assert fired(rule, opportunity) == 0
	assert rule.name not in [r["name"] for r in get_rules("Opportunity")]


def test_rule_cache_follows_rule_changes():
	rule = make_rule(trigger="Every Save")
	assert rule.name in [r["name"] for r in get_rules("Opportunity")]
	rule.enabled = 0
	rule.save()
	assert rule.name not in [r["name"] for r in get_rules("Opportunity")]
	rule.enabled = 1
	rule.save()
	assert rule.name in [r["name"] for r in get_rules("Opportunity")]
	rule.delete()
	assert rule.name not in [r["name"] for r in get_rules("Opportunity")]


def test_rolled_back_rule_leaves_no_trace_in_the_cache():
	frappe.db.commit()  # start clean: nothing of ours pending
	rule = make_rule(trigger="Every Save")
	assert rule.name in [r["name"] for r in get_rules("Opportunity")]
	frappe.db.rollback()
	assert rule.name not in [r["name"] for r in get_rules("Opportunity")]


def test_no_rule_fires_during_install_patch_or_migrate():
	rule = make_rule(trigger="Every Save")
	for flag in ("in_install", "in_patch", "in_migrate"):
		frappe.flags[flag] = True
		try:
			opportunity = make_opportunity()
			opportunity.save()
		finally:
			frappe.flags[flag] = False
		assert fired(rule, opportunity) == 0


def test_doc_events_cover_the_apps_record_doctypes():
	events = frappe.get_hooks("doc_events")
	for doctype in ("Opportunity", "Lead", "Organization", "Quote", "Sales Order", "Project"):
		assert "opportunity_suite.events.alerts.after_insert" in events[doctype]["after_insert"]
		assert "opportunity_suite.events.alerts.on_update" in events[doctype]["on_update"]
