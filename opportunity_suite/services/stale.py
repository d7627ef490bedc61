"""The stale-deal radar. An open deal is stale when it sits in its stage longer than the stage's "Stale After
(Days)", when its expected close date has passed, or when it has no open activity ahead (an open to-do due
today or later, an open event starting from now on). A deal snoozed until a day is not stale up to that day.

The answer is stored on the deal (`is_stale`, indexed, and `stale_reason`) rather than computed by every list
query: the list, its "Stale" filter, the Kanban badge, the number card and the weekly alert rule then read a
plain indexed column through Frappe's own list machinery (permissions included), and a query with two
correlated activity lookups per row never runs on a million-row list. It is kept fresh by the deal's save,
by a change of one of its to-dos or events, by a change of a stage's threshold, and by a daily job (time
passing makes a deal stale without any save). `stale_reasons` is the one rule all of them apply."""

from contextlib import contextmanager

import frappe
from frappe import _
from frappe.utils import cstr, get_datetime, getdate, now_datetime, today

from opportunity_suite.services import totals

DOCTYPE = "Opportunity"
CHUNK = 5000
SAVING_FLAG = "opportunity_suite_stale_saving"


class SnoozeError(frappe.ValidationError):
	pass


def stale_reasons(deal, stale_after_days: int | None, has_activity: bool, now=None, translate=_) -> list[str]:
	"""Why `deal` (status, snoozed_until, stage_since, creation, expected_close_date) is stale; [] if not.
	`translate`: `_`, or a memo of it for many deals at once (`_Translations`)."""
	_ = translate
	now = get_datetime(now or now_datetime())
	if deal.get("status") != "Open":
		return []
	if deal.get("snoozed_until") and getdate(deal.get("snoozed_until")) >= now.date():
		return []
	reasons = []
	entered = deal.get("stage_since") or deal.get("creation")
	if stale_after_days and entered and get_datetime(entered) < now - _days(stale_after_days):
		reasons.append(_("In its stage over {0} days").format(stale_after_days))
	if deal.get("expected_close_date") and getdate(deal.get("expected_close_date")) < now.date():
		reasons.append(_("Expected close date has passed"))
	if not has_activity:
		reasons.append(_("No upcoming to-do or event"))
	return reasons


def _days(count: int):
	import datetime

	return datetime.timedelta(days=int(count))


def validate_snooze(doc, before=None):
	"""A snooze needs a reason and a day from today on; clearing the day clears the reason."""
	until = doc.get("snoozed_until")
	if not until:
		doc.snooze_reason = None
		return
	if before is None or cstr(before.get("snoozed_until")) != cstr(until):
		if getdate(until) < getdate(today()):
			frappe.throw(_("Snooze until today or a later day."), exc=SnoozeError, title=_("Snooze"))
	if not cstr(doc.get("snooze_reason")).strip():
		frappe.throw(_("Say why the deal is snoozed (Snooze Reason)."), exc=SnoozeError, title=_("Snooze"))


def _with_activity(names: list[str] | None, now) -> set[str]:
	"""The deals among `names` (None: all) with an open to-do due from today or an open event ahead.

	A to-do counts when it is due on a later day than it was written: Frappe dates an assignment (Assign
	To, which every deal's Assigned To makes) the day it is made, and an assignment is no planned step.

	Plain SQL with the names bound as one parameter: the query builder renders an `in` list value by value
	(0.1 s for an import batch's 2,500 names, more than MariaDB takes to answer)."""
	if names is not None and not names:
		return set()
	values = {"doctype": DOCTYPE, "today": now.date(), "now": now}
	found = set()
	for start in range(0, len(names), 5000) if names is not None else [None]:
		if start is None:
			condition = ""
		else:
			values["names"] = tuple(names[start : start + 5000])
			condition = "and {} in %(names)s"
		found.update(
			frappe.db.sql(
				f"""select distinct reference_name from `tabToDo`
				where reference_type = %(doctype)s and status = 'Open' and `date` >= %(today)s
				and `date` > date(creation) {condition.format("reference_name")}""",
				values,
				pluck=True,
			)
		)
		found.update(
			frappe.db.sql(
				f"""select distinct p.reference_docname from `tabEvent Participants` p
				join `tabEvent` e on e.name = p.parent
				where p.reference_doctype = %(doctype)s and e.status = 'Open' and e.starts_on >= %(now)s
				{condition.format("p.reference_docname")}""",
				values,
				pluck=True,
			)
		)
	return found


def _rows(names: list[str] | None, after: str | None):
	deal = frappe.qb.DocType(DOCTYPE)
	stage = frappe.qb.DocType("Opportunity Stage")
	query = (
		frappe.qb.from_(deal)
		.left_join(stage)
		.on(stage.name == deal.sales_stage)
		.select(
			deal.name,
			deal.status,
			deal.is_stale,
			deal.stale_reason,
			deal.snoozed_until,
			deal.stage_since,
			deal.creation,
			deal.expected_close_date,
			stage.stale_after_days,
		)
		.where((deal.status == "Open") | (deal.is_stale == 1))
		.orderby(deal.name)
	)
	if names is not None:
		return query.where(deal.name.isin(names)).run(as_dict=True)
	if after is not None:
		query = query.where(deal.name > after)
	return query.limit(CHUNK).run(as_dict=True)


def _outcome(
	deal, stale_after_days: int | None, has_activity: bool, now, translate=_
) -> tuple[int, str | None]:
	"""(is_stale, stale_reason) of a deal: the rule's answer as the deal stores it."""
	reasons = stale_reasons(deal, stale_after_days, has_activity, now, translate)
	return (1 if reasons else 0), ("; ".join(reasons) or None)


class _Translations(dict):
	"""`_` looked up once per message for many deals (a batch, a chunk), in the language of the moment."""

	def __call__(self, message: str) -> str:
		text = self.get(message)
		if text is None:
			text = self[message] = _(message)
		return text


def _store(rows, activity: set[str], now) -> dict[str, tuple[int, str | None]]:
	"""Apply the rule to `rows` and write the flags that changed, a statement per distinct outcome."""
	outcome, changes = {}, {}
	translate = _Translations()
	for row in rows:
		flag, reason = _outcome(row, row.stale_after_days, row.name in activity, now, translate)
		outcome[row.name] = (flag, reason)
		if (int(row.is_stale or 0), row.stale_reason or None) != (flag, reason):
			changes.setdefault((flag, reason), []).append(row.name)
	for (flag, reason), names in changes.items():
		for start in range(0, len(names), 1000):
			frappe.db.set_value(
				DOCTYPE,
				{"name": ("in", names[start : start + 1000])},
				{"is_stale": flag, "stale_reason": reason},
				update_modified=False,
			)
	# the stale flag is one of the pre-aggregated totals' dimensions (the Stale Deals card)
	totals.refresh([name for names in changes.values() for name in names])
	return outcome


def refresh_stale(names: list[str]) -> dict[str, tuple[int, str | None]]:
	"""Bring these deals' stale flags up to date (a save, a changed to-do or event). Returns
	{name: (is_stale, stale_reason)} of those that are or were open."""
	names = [n for n in names if n]
	if not names:
		return {}
	now = now_datetime()
	return _store(_rows(names, None), _with_activity(names, now), now)


def apply_stale(deals: list, stale_after_days, now=None):
	"""Set `is_stale` and `stale_reason` on deals held in memory before they are written (an import's new
	records: what `refresh_stale` would store right after their INSERT, without the UPDATE), by the same
	rule; `stale_after_days(stage name)` gives a stage's threshold. Their activity: one query per call."""
	now = get_datetime(now or now_datetime())
	activity = _with_activity([d.name for d in deals if d.get("status") == "Open"], now)
	translate = _Translations()
	for deal in deals:
		deal.is_stale, deal.stale_reason = _outcome(
			deal, stale_after_days(deal.get("sales_stage")), deal.name in activity, now, translate
		)


def refresh_all_stale():
	"""The daily job: every open (or still flagged) deal, in chunks of 5,000, committed per chunk."""
	now = now_datetime()
	after = ""
	while True:
		rows = _rows(None, after)
		if not rows:
			break
		names = [r.name for r in rows]
		_store(rows, _with_activity(names, now), now)
		frappe.db.commit()  # a scheduled job: per chunk
		after = names[-1]


@contextmanager
def saving(name: str):
	"""While deal `name`'s save runs its own changes to its to-dos (the assignment), which
	`refresh_after_save` follows."""
	previous = frappe.flags.get(SAVING_FLAG)
	frappe.flags[SAVING_FLAG] = name
	try:
		yield
	finally:
		frappe.flags[SAVING_FLAG] = previous


def refresh_after_save(doc):
	"""After a save: the deal's own flag, and its in-memory values so the response shows them."""
	if frappe.flags.in_install or frappe.flags.in_patch:
		return
	outcome = refresh_stale([doc.name]).get(doc.name)
	doc.is_stale, doc.stale_reason = outcome or (0, None)


def refresh_for_activity(doc, method=None):
	"""A to-do or event changed (doc_events): the deals it belongs to. Not the deal being saved (the
	to-do its assignment makes): its save refreshes it right after (`refresh_after_save`)."""
	if frappe.flags.in_install or frappe.flags.in_patch or frappe.flags.in_migrate:
		return
	if doc.doctype == "ToDo":
		saving = frappe.flags.get(SAVING_FLAG)
		names = [doc.reference_name] if doc.reference_type == DOCTYPE and doc.reference_name != saving else []
	else:
		names = [
			p.reference_docname for p in doc.get("event_participants") or [] if p.reference_doctype == DOCTYPE
		]
	if names and frappe.db.table_exists(DOCTYPE):
		refresh_stale(names)


def enqueue_refresh(stage=None, method=None):
	"""A stage's threshold changed: every deal, in the background (one job at a time)."""
	if frappe.flags.in_install or frappe.flags.in_patch or frappe.flags.in_migrate:
		return
	before = stage.get_doc_before_save() if stage else None
	if stage and before and (before.stale_after_days or 0) == (stage.stale_after_days or 0):
		return
	frappe.enqueue(
		"opportunity_suite.services.stale.refresh_all_stale",
		queue="long",
		job_id="opportunity_suite:refresh_all_stale",
		deduplicate=True,
		enqueue_after_commit=True,
	)


def snooze(name: str, until: str | None, reason: str | None):
	"""Snooze (or, without `until`, wake) a deal: saved through its controller."""
	doc = frappe.get_doc(DOCTYPE, name)
	doc.check_permission("write")
	doc.snoozed_until = getdate(until) if until else None
	doc.snooze_reason = reason if until else None
	doc.save()
	return {
		"is_stale": doc.is_stale,
		"stale_reason": doc.stale_reason,
		"snoozed_until": cstr(doc.snoozed_until),
	}


STALE_RULE = "Stale deals: remind the assignee weekly"
STALE_SUBJECT = "Stale deal: {{ doc.opportunity_name }}"
STALE_MESSAGE = """<p>Your deal <b>{{ doc.opportunity_name }}</b> ({{ doc.name }}) is stale:
{{ doc.stale_reason }}.</p>
<p>Stage: {{ doc.sales_stage }}. Expected close: {{ doc.expected_close_date|date }}.</p>
<p>Plan its next step (a to-do or an event), move it on, or snooze it with a reason.</p>"""


def ensure_stale_rule():
	"""The shipped, disabled Alert Rule preset: every Monday at 08:00 e-mail each stale deal's assignee
	(idempotent; an edited one is left alone)."""
	if frappe.db.exists("Alert Rule", STALE_RULE) or not frappe.db.exists("DocType", "Alert Rule"):
		return
	frappe.get_doc(
		{
			"doctype": "Alert Rule",
			"rule_name": STALE_RULE,
			"document_type": DOCTYPE,
			"enabled": 0,
			"description": "Preset (stale-deal radar): every Monday, e-mail the assignee of each stale open deal.",
			"trigger": "On Schedule",
			"schedule_frequency": "Weekly",
			"schedule_time": "08:00:00",
			"monday": 1,
			"condition_match": "All",
			"conditions": [
				{"fieldname": "is_stale", "operator": "Equals", "value": "1"},
				{"fieldname": "status", "operator": "Equals", "value": "Open"},
			],
			"actions": [
				{
					"action_type": "Email",
					"recipient_fields": "assigned_to",
					"subject": STALE_SUBJECT,
					"message": STALE_MESSAGE,
				}
			],
		}
	).insert(ignore_permissions=True)
