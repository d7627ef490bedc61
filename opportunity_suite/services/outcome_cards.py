"""Number cards over closed deals (the workspace's Won This Quarter) from the outcome summary
(services/outcome_totals.py), where it holds the answer.

Frappe's card sums `base_amount` over the opportunities Won with `closed_on` in this quarter, as the user may
read them: 22,000 rows a quarter at a million deals, each read from the table for the private visibility's
condition on `owner`, Assigned To and `_assign` (0.3–1.4 s). The outcome summary holds those deals per
status, month of `closed_on`, owner, assigned to and `_assign` (~1,900 rows a quarter of its kind
`size_band`, where every closed deal counts once), so the same condition, applied to it, selects the same
deals' count and sum.

What it answers: Count, or Sum of `base_amount`, with a status filter of Won and/or Lost, `closed_on` as
whole months (a Timespan such as "this quarter", or `between`), and `=` on owner, assigned to or lead
source; for a private user the open pipeline's totals answer for (`totals.read_scope`). Anything else
(another field or function, a partial month, a `to_date`, a user who reads every deal: Frappe's query then
reads the covering index (status, closed_on, base_amount), as fast) is None: the caller runs Frappe's own
query."""

import frappe
from frappe.utils import flt, get_last_day, get_timespan_date_range, getdate

from opportunity_suite.services import outcome_totals, totals

DOCTYPE = "Opportunity"
CLOSED = ("Won", "Lost")
EQUAL_FIELDS = ("owner", "assigned_to", "lead_source")


def number_card(doc: dict, filters, to_date=None) -> float | None:
	"""The card's value as Frappe's `number_card.get_result` gives it, or None when the summary can't say."""
	if not totals.answerable_card(doc, to_date, sums=("base_amount",)):
		return None
	parsed = _parse(filters)
	if parsed is None or not outcome_totals.ready():
		return None
	scope = totals.read_scope()
	if scope is None or not scope.private:  # who reads every deal: Frappe's query reads one covering index
		return None
	statuses, (first_day, last_day), equal = parsed
	values = {"statuses": statuses, "first": first_day, "last": last_day.replace(day=1)}
	conditions = [
		"t.kind = 'size_band'",  # every closed deal once
		"t.status in %(statuses)s",
		"t.closed_month between %(first)s and %(last)s",
	]
	for name, value in equal.items():
		values[name] = value
		conditions.append(f"t.`{name}` = %({name})s")
	conditions.append(scope.team("t"))
	where = " and ".join(conditions)
	parts = [
		f"select sum(t.deals) as deals, sum(t.base_amount) as amount from `{table}` t where {where}"
		for table in (outcome_totals.TOTALS, outcome_totals.DELTAS)
	]
	# shared with the user, and not already theirs by owner or assignee
	values.update(from_day=first_day, to_day=last_day)
	mine = " and ".join(f"o.`{name}` = %({name})s" for name in equal)
	parts.append(
		"select count(*), sum(o.base_amount) from `tabOpportunity` o where o.status in %(statuses)s "
		"and o.closed_on between %(from_day)s and %(to_day)s"
		+ (f" and {mine}" if mine else "")
		+ f" and {scope.shared()} and {scope.outside_team('o')}"
	)
	deals, amount = frappe.db.sql(
		f"select sum(p.deals), sum(p.amount) from ({' union all '.join(parts)}) p", values
	)[0]
	return flt(deals) if doc.get("function") == "Count" else flt(amount)


def _parse(filters) -> tuple[tuple, tuple, dict] | None:
	"""(statuses, (first day, last day) of whole months of `closed_on`, {field: value}) from the card's
	filters, or None when any of them the summary can't apply."""
	if isinstance(filters, str):
		filters = frappe.parse_json(filters)
	if isinstance(filters, dict):
		filters = [[f, *v] if isinstance(v, list | tuple) else [f, "=", v] for f, v in filters.items()]
	rows = []
	for row in filters or ():
		if not isinstance(row, list | tuple) or len(row) < 3:
			return None
		if len(row) >= 4:  # [doctype, field, op, value], with the card's 5th flag
			if row[0] != DOCTYPE:
				return None
			row = row[1:4]
		rows.append(row)
	statuses, days, equal = None, None, {}
	for field, op, value in rows:
		op = str(op).lower()
		if field == "status" and statuses is None:
			values = (value,) if op == "=" else value.split(",") if isinstance(value, str) else value
			if op not in ("=", "in") or not isinstance(values, list | tuple):
				return None
			values = tuple(v.strip() if isinstance(v, str) else v for v in values)
			if not values or any(v not in CLOSED for v in values):
				return None
			statuses = values
		elif field == "closed_on" and days is None:
			if op == "timespan" and isinstance(value, str) and get_timespan_date_range(value):
				days = get_timespan_date_range(value)
			elif op == "between" and isinstance(value, list | tuple) and len(value) == 2 and all(value):
				days = (value[0], value[1])
			else:
				return None
			first, last = getdate(days[0]), getdate(days[1])
			if first.day != 1 or get_last_day(last) != last or first > last:
				return None
			days = (first, last)
		elif field in EQUAL_FIELDS and field not in equal and op == "=" and isinstance(value, str) and value:
			equal[field] = value
		else:
			return None
	if statuses is None or days is None:
		return None
	return statuses, days, equal
