"""Opportunity Stage History: one row per change of a deal's stage, amount, probability, expected close or
forecast category (when the site has that field), with who, when, and how long the previous stage lasted.

One function, `history_row`, makes a row from the deal before and after a change. The controller calls it
after every save (desk, REST, Kanban move, bulk edit, lead conversion: all go through `Document.save`), the
importer for each record a batch wrote (and inserts the rows in one multi-row INSERT), the migrate patch for
each Version row of the past (`backfill`). `stage_since` on the deal (when it entered its current stage) is
derived with the deal's other fields, in `validate_opportunity`, by `apply_stage_since`.

Why a DocType of its own and not a child table of Opportunity: a child table is loaded, sent to the form and
diffed into a Version on every save of the deal, and grows without end; the report reads the history of all
deals at once, which wants one indexed table (opportunity, changed_on); an import appends rows without
loading the deals; and the rows are the app's record, never edited by hand (`in_create`, read-only
fields). Who may read a row follows its opportunity (services/visibility.py)."""

import datetime

import frappe
from frappe.utils import cstr, flt, get_datetime, getdate, now_datetime
from pypika.terms import ExistsCriterion

from opportunity_suite.services import stage_viewers

DOCTYPE = "Opportunity Stage History"
OPPORTUNITY = "Opportunity"
# the deal's fields whose changes are recorded; forecast_category only where the field exists
TRACKED = ("sales_stage", "amount", "probability", "expected_close_date", "forecast_category")
ROW_FIELDS = (
	"name",
	"creation",
	"modified",
	"owner",
	"modified_by",
	"docstatus",
	"idx",
	"opportunity",
	"changed_on",
	"changed_by",
	"via",
	"assigned_to",
	"from_stage",
	"to_stage",
	"stage_changed",
	"days_in_previous_stage",
	"currency",
	"old_amount",
	"new_amount",
	"old_probability",
	"new_probability",
	"old_expected_close_date",
	"new_expected_close_date",
	"old_forecast_category",
	"new_forecast_category",
	"viewer_key",
)
SECONDS_PER_DAY = 86400


def tracked_fields() -> tuple[str, ...]:
	meta = frappe.get_meta(OPPORTUNITY)
	return tuple(f for f in TRACKED if f != "forecast_category" or meta.has_field(f))


def _same(fieldname: str, old, new) -> bool:
	if fieldname in ("amount", "probability"):
		return abs(flt(old) - flt(new)) < 0.005
	if fieldname == "expected_close_date":
		return (getdate(old) if old else None) == (getdate(new) if new else None)
	return cstr(old) == cstr(new)


def _date(value):
	return getdate(value) if value else None


def apply_stage_since(doc, before, when=None):
	"""`stage_since`: when the deal entered its current stage. A new deal or a changed stage starts it
	now (`when`); otherwise it stays as stored, whatever a caller sent."""
	when = get_datetime(when or now_datetime())
	if before is None or not _same("sales_stage", before.get("sales_stage"), doc.get("sales_stage")):
		doc.stage_since = when
	else:
		doc.stage_since = before.get("stage_since") or before.get("creation") or when


def history_row(before, after, when, user: str, via: str = "Save", fields=None) -> dict | None:
	"""The history row for the change of one opportunity from `before` (None: it was just made) to `after`
	(a Document or a dict), or None when none of the tracked fields changed. `days_in_previous_stage` is
	the time since `before` entered its stage, when the stage changed."""
	fields = fields or tracked_fields()
	when = get_datetime(when)
	if before is not None and all(_same(f, before.get(f), after.get(f)) for f in fields):
		return None
	old = before or {}
	stage_changed = before is None or not _same(
		"sales_stage", old.get("sales_stage"), after.get("sales_stage")
	)
	days = 0.0  # number columns are NOT NULL (Frappe): 0 where there is no previous stage or value
	if before is not None and stage_changed:
		entered = old.get("stage_since") or old.get("creation")
		if entered:
			days = round(max((when - get_datetime(entered)).total_seconds(), 0) / SECONDS_PER_DAY, 2)
	has_category = "forecast_category" in fields
	return {
		"name": frappe.generate_hash(length=10),
		"creation": when,
		"modified": when,
		"owner": user,
		"modified_by": user,
		"docstatus": 0,
		"idx": 0,
		"opportunity": after.get("name"),
		"changed_on": when,
		"changed_by": user,
		"via": via,
		"assigned_to": after.get("assigned_to"),
		"from_stage": old.get("sales_stage"),
		"to_stage": after.get("sales_stage"),
		"stage_changed": 1 if stage_changed else 0,
		"days_in_previous_stage": days,
		"currency": after.get("currency"),
		"old_amount": flt(old.get("amount")),
		"new_amount": flt(after.get("amount")),
		"old_probability": flt(old.get("probability")),
		"new_probability": flt(after.get("probability")),
		"old_expected_close_date": _date(old.get("expected_close_date")),
		"new_expected_close_date": _date(after.get("expected_close_date")),
		"old_forecast_category": old.get("forecast_category") if has_category else None,
		"new_forecast_category": after.get("forecast_category") if has_category else None,
		# who reads it: the deal's key as given (services/stage_viewers.py), checked by the refresh after
		"viewer_key": stage_viewers.key_of(after.get("owner"), after.get("assigned_to"), after.get("_assign"))
		if after.get("name")
		else None,
	}


def insert_history(rows: list[dict], refresh_viewers: bool = True):
	"""History rows in multi-row INSERTs (the importer's writer; values escaped as the driver does).
	`refresh_viewers` False: the caller refreshes the same deals' viewer keys next (`totals.refresh`)."""
	from opportunity_suite.services import stage_stays
	from opportunity_suite.services.importing.writer import insert_rows

	rows = [r for r in rows if r]
	if rows:
		insert_rows(DOCTYPE, list(ROW_FIELDS), [[r[f] for f in ROW_FIELDS] for r in rows])
		stage_stays.add_rows(rows)  # the Time in Stage summary, in the same transaction
		if refresh_viewers:  # who may read them: their keys checked against the deals as stored
			stage_viewers.refresh([r["opportunity"] for r in rows])


def record_save(doc):
	"""After a save of `doc` (an Opportunity Document): its history row, if a tracked field changed."""
	if frappe.flags.in_install or frappe.flags.in_patch:
		return
	before = doc.get_doc_before_save()
	row = history_row(
		before,
		doc,
		when=doc.modified or now_datetime(),
		user=frappe.session.user,
		via=doc.flags.history_via or "Save",
	)
	insert_history([row])


def delete_history(names: list[str]):
	"""The history of deleted opportunities goes with them (and its stays leave the summary)."""
	from opportunity_suite.services import stage_stays

	for start in range(0, len(names), 1000):
		stage_stays.remove_for(names[start : start + 1000])
		frappe.db.delete(DOCTYPE, {"opportunity": ("in", names[start : start + 1000])})


# ---------------------------------------------------------------- the form's facts


def stage_facts(name: str) -> dict:
	"""What the form shows about a deal's history: days in its current stage, how often and by how many
	days its close date was pushed out, its amount change since it was made (in its currency)."""
	deal = frappe.db.get_value(
		OPPORTUNITY, name, ["stage_since", "creation", "amount", "currency", "sales_stage"], as_dict=True
	)
	rows = frappe.get_all(
		DOCTYPE,
		filters={"opportunity": name},
		fields=[
			"changed_on",
			"from_stage",
			"old_amount",
			"new_amount",
			"old_expected_close_date",
			"new_expected_close_date",
		],
		order_by="changed_on asc, creation asc",
	)
	pushes = [
		(getdate(r.new_expected_close_date) - getdate(r.old_expected_close_date)).days
		for r in rows
		if r.old_expected_close_date
		and r.new_expected_close_date
		and getdate(r.new_expected_close_date) > getdate(r.old_expected_close_date)
	]
	if not rows:
		first_amount = deal.amount
	else:  # the deal as made: its first row's new values (a creation row has no From Stage)
		first_amount = rows[0].new_amount if not rows[0].from_stage else rows[0].old_amount
	entered = get_datetime(deal.stage_since or deal.creation)
	return {
		"stage": deal.sales_stage,
		"days_in_stage": round((now_datetime() - entered).total_seconds() / SECONDS_PER_DAY, 1),
		"stage_since": str(entered),
		"close_date_pushes": len(pushes),
		"close_date_pushed_days": sum(pushes),
		"first_amount": flt(first_amount),
		"amount_change": flt(deal.amount) - flt(first_amount),
		"currency": deal.currency,
		"changes": len(rows),
	}


# ---------------------------------------------------------------- backfill from Version rows


def _parse_number(value) -> float:
	"""A number as Version rows keep it: formatted (`$ 1,200.50`, `50%`) in the site's number format."""
	if value in (None, ""):
		return 0.0
	if isinstance(value, int | float):
		return float(value)
	from frappe.utils import get_number_format_info

	number_format = frappe.db.get_default("number_format") or "#,###.##"
	decimal_sep, group_sep, _precision = get_number_format_info(number_format)
	text = "".join(ch for ch in cstr(value) if ch.isdigit() or ch in (decimal_sep, group_sep, "-"))
	text = text.replace(group_sep, "") if group_sep else text
	return flt(text.replace(decimal_sep, "."))


def _parse_date(value):
	if not value:
		return None
	if isinstance(value, datetime.date):
		return value
	try:
		from frappe.utils import get_user_date_format
		from frappe.utils.data import user_to_str

		return getdate(user_to_str(cstr(value), get_user_date_format()))
	except Exception:
		try:
			return getdate(value)
		except Exception:
			return None


def _from_version(fieldname: str, value):
	if fieldname in ("amount", "probability"):
		return _parse_number(value)
	if fieldname == "expected_close_date":
		return _parse_date(value)
	return value


def backfill() -> int:
	"""History rows for the opportunities that have none yet, from their Version rows (the timeline): a
	row for the deal as it was made, then one per version that changed a tracked field; `stage_since` from
	the last stage change (the creation when none). Deals without versions get a creation row with today's
	values. Idempotent: deals with history are left alone. Returns the number of rows written."""
	fields = tracked_fields()
	# `stage_since` of every deal that has none: its creation, in one statement (versions correct it below)
	frappe.db.sql("UPDATE `tabOpportunity` SET `stage_since` = `creation` WHERE `stage_since` IS NULL")
	history = frappe.qb.DocType(DOCTYPE)
	deal = frappe.qb.DocType(OPPORTUNITY)
	has_history = frappe.qb.from_(history).select(history.opportunity).where(history.opportunity == deal.name)
	written, after = 0, ""
	while True:
		chunk = (
			frappe.qb.from_(deal)
			.select(deal.name, deal.creation, deal.owner, deal.assigned_to, deal.currency, *fields)
			.where((deal.name > after) & ~ExistsCriterion(has_history))
			.orderby(deal.name)
			.limit(1000)
			.run(as_dict=True)
		)
		if not chunk:
			return written
		after = chunk[-1].name
		rows = _backfill_rows(chunk, fields)
		insert_history(rows)
		written += len(rows)


def _backfill_rows(chunk: list, fields) -> list[dict]:
	versions: dict[str, list] = {}
	for v in frappe.get_all(
		"Version",
		filters={"ref_doctype": OPPORTUNITY, "docname": ("in", [d.name for d in chunk])},
		fields=["docname", "creation", "owner", "data"],
		order_by="creation asc",
	):
		changed = [c for c in (frappe.parse_json(v.data) or {}).get("changed") or [] if c[0] in fields]
		if changed:
			versions.setdefault(v.docname, []).append((v, changed))
	rows = []
	for deal in chunk:
		changes = versions.get(deal.name, [])
		state = frappe._dict({f: deal.get(f) for f in fields})
		for _v, changed in reversed(changes):  # walk back from today to the deal as it was made
			for fieldname, old, _new in changed:
				state[fieldname] = _from_version(fieldname, old)
		state.update(name=deal.name, assigned_to=deal.assigned_to, currency=deal.currency)
		state.stage_since = deal.creation
		rows.append(history_row(None, state, deal.creation, deal.owner, "Backfill", fields))
		for version, changed in changes:
			after = frappe._dict(state)
			for fieldname, _old, new in changed:
				after[fieldname] = _from_version(fieldname, new)
			row = history_row(state, after, version.creation, version.owner, "Backfill", fields)
			if row:
				rows.append(row)
				if row["stage_changed"]:
					after.stage_since = version.creation
			state = after
		if state.stage_since != deal.creation:
			frappe.db.set_value(
				OPPORTUNITY, deal.name, "stage_since", state.stage_since, update_modified=False
			)
	return rows
