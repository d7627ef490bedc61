"""Reading the pre-aggregated totals: whose deals a user may count (Frappe's read conditions first), which
filters the summary holds, and each call's answer. None from any of them means "run the query it
replaces" (services/totals/__init__.py)."""

import json

import frappe
from frappe.model.db_query import DatabaseQuery

from opportunity_suite.services import visibility
from opportunity_suite.services.totals.keeping import enqueue_fold
from opportunity_suite.services.totals.schema import (
	AMOUNTS,
	DELTAS,
	DIMENSION_NAMES,
	DOCTYPE,
	FILTERABLE,
	FOLD_AFTER,
	LEVELS,
	OFF_SWITCH,
	REPORT_INDEX,
	TOTALS,
	dimension_of,
	ready,
)


class Scope:
	"""Which opportunities' totals a user reads: every one, or their team's (private visibility) plus the
	deals shared with them."""

	def __init__(self, user: str, private: bool):
		self.user, self.private = user, private

	# SQL text with values escaped by visibility.py, % doubled: the statements they go into take parameters
	def team(self, alias: str) -> str:
		return visibility.team_condition(self.user, f"`{alias}`").replace("%", "%%")

	def outside_team(self, alias: str) -> str:
		"""Not the team's deal. (`ifnull`: the team condition is NULL, not false, on a deal assigned to
		nobody, and `not NULL` would drop it.)"""
		return f"not ifnull({self.team(alias)}, 0)"

	def shared(self) -> str:
		return visibility.shared_condition(DOCTYPE, self.user, "`o`").replace("%", "%%")


def read_scope() -> Scope | None:
	"""The session user's scope when the summary can answer for them, else None (the caller falls back).
	The same Frappe read conditions a list would apply must be none, or exactly the app's visibility."""
	user = frappe.session.user
	if frappe.conf.get(OFF_SWITCH) or not ready() or not frappe.has_permission(DOCTYPE, "read", user=user):
		return None
	query = DatabaseQuery(DOCTYPE, user=user)
	match = query.build_match_conditions(as_condition=True)
	if query.conditions or query.shared:
		return None  # a reader of shared deals only, or user permissions with shares
	if not match:
		return Scope(user, private=False)
	if not visibility.sees_everything(user) and match == visibility.opportunity_condition(user):
		return Scope(user, private=True)
	return None


def parse_filters(filters) -> list[tuple[str, str, tuple]] | None:
	"""Frappe list filters (a dict, or [doctype, field, op, value] / [field, op, value] rows) as
	(field, op, values) the summary can apply, or None when any of them it can't."""
	if not filters:
		return []
	if isinstance(filters, str):
		filters = frappe.parse_json(filters)
	if isinstance(filters, dict):
		rows = [
			[field, *value] if isinstance(value, list | tuple) else [field, "=", value]
			for field, value in filters.items()
		]
	elif isinstance(filters, list | tuple):
		rows = []
		for row in filters:
			if not isinstance(row, list | tuple) or len(row) < 3:
				return None
			if len(row) >= 4:  # [doctype, field, op, value], a card's with a 5th flag Frappe ignores too
				row = row[:4]
				if row[0] != DOCTYPE:
					return None
				row = row[1:]
			rows.append(list(row))
	else:
		return None
	parsed = []
	for row in rows:
		if len(row) != 3:
			return None
		field, op, value = row
		op = str(op).lower()
		if field not in FILTERABLE:
			return None
		if (
			op == "="
			and isinstance(value, str | int)
			and not isinstance(value, bool)
			and value not in ("", 0)
		):
			parsed.append((field, "=", (value,)))
		elif op == "in":
			values = value.split(",") if isinstance(value, str) else value
			if not isinstance(values, list | tuple) or not values:
				return None
			values = tuple(v.strip() if isinstance(v, str) else v for v in values)
			if any(v in ("", None) or isinstance(v, bool | dict | list) for v in values):
				return None  # Frappe's `ifnull(x, '') in (…)` then matches NULL too
			parsed.append((field, "in", values))
		else:
			return None
	return parsed


def grouped_totals(
	scope: Scope,
	group_by: dict[str, str],
	filters: list[tuple[str, str, tuple]],
	where: list[tuple[str, dict]] | None = None,
	average: bool = False,
	fixed: dict[str, str] | None = None,
	sums: dict[str, str] | None = None,
	floats: bool = False,
	scan: bool = False,
) -> list[frappe._dict]:
	"""Counts and sums per `group_by` ({alias: SQL over the summary's columns `t`}) of the deals in `scope`
	matching `filters` (and raw `where` conditions on `t`, with their values). `sums`: more sums, {alias:
	SQL over `t`}, e.g. an amount of one category only. `floats`: the sums as floats (each the float of its
	decimal sum) and no `amount_rows`, sent as one text a row: PyMySQL decodes each value in Python, and a
	report's 4,800 rows of 8 sums are 30 ms of decoding, a text split in C a third of it. `scan`: read the
	fine summary in full, not through its report index, for a grouping into few groups (by period alone,
	or period × stage): its ~300 pages in order, not ~9,700 page reads for a year's 4,800 rows one by one
	(SQL median 58 against 118 ms at load 6, by period).

	Each source (the summary, the unfolded deltas, a private user's shared deals) is filtered and grouped
	on its own, and only those groups are added up: a union of the raw rows would be materialised first
	(16,000 rows of wide keys: a temporary table on disk, 0.2 s). With no deltas waiting, the summary alone."""
	conditions, values = [], {}
	for i, (field, op, vals) in enumerate(filters):
		values[f"f{i}"] = vals if op == "in" else vals[0]
		conditions.append(f"t.`{field}` {'in' if op == 'in' else '='} %(f{i})s")
	for condition, more in where or []:
		conditions.append(condition)
		values.update(more)
	fixed = fixed or {}  # selected, not grouped: a column a filter holds to one value
	keys = ", ".join(f"{sql} as `{alias}`" for alias, sql in {**group_by, **fixed}.items())
	more = sums or {}
	measures = (
		"sum(t.opportunities) as opportunities, sum(t.amount_rows) as amount_rows, "
		"sum(t.base_amount) as base_amount, sum(t.base_forecast_amount) as base_forecast_amount"
	)
	sums = measures + "".join(f", sum({sql}) as `{alias}`" for alias, sql in more.items())
	grouping = f" group by {', '.join(group_by.values())}" if group_by else ""

	def part(table: str, extra: str = "", hint: str = "") -> str:
		where_sql = " and ".join([*conditions, *([extra] if extra else [])])
		return (
			f"select {keys + ', ' if keys else ''}{sums} from {table} t{hint}"
			+ (f" where {where_sql}" if where_sql else "")
			+ grouping
		)

	team = scope.team("t") if scope.private else ""
	used = {field for field, _op, _vals in filters} | {
		name
		for name in DIMENSION_NAMES
		for sql in [*group_by.values(), *fixed.values(), *more.values(), *(c for c, _v in where or [])]
		if f"t.{name}" in sql or f"t.`{name}`" in sql
	}
	# a private user's team condition reads `_assign`, which only the fine summary holds
	level = TOTALS
	for smaller, names in LEVELS.items():
		if not scope.private and used <= set(names):
			level = smaller
	parts = [part(f"`{level}`", team, f" ignore index ({REPORT_INDEX})" if scan and level == TOTALS else "")]
	if _waiting_deltas():
		parts.append(part(f"`{DELTAS}`", team))
	if scope.private:  # shared with the user, and not already theirs by owner or assignee
		mine = ", ".join(f"{dimension_of(n, 'o')} as `{n}`" for n in DIMENSION_NAMES if n != "_assign")
		shared = (
			f"(select {mine}, 1 as opportunities, (o.base_amount is not null) as amount_rows, "
			"ifnull(o.base_amount, 0) as base_amount, ifnull(o.base_forecast_amount, 0) as base_forecast_amount "
			f"from `tabOpportunity` o where {scope.shared()} and {scope.outside_team('o')})"
		)
		parts.append(part(shared))
	average_sql = (
		# AVG(base_amount) as MariaDB computes it: the decimal sum over the non-null count, 4 more digits
		", sum(t.base_amount) / sum(t.amount_rows) as average_amount" if average else ""
	)
	if len(parts) == 1:
		sql = parts[0].replace(sums, sums + average_sql, 1) + " having sum(t.opportunities) > 0"
	else:
		outer = ", ".join(f"t.`{alias}`" for alias in group_by)
		shown = ", ".join(f"t.`{alias}`" for alias in {**group_by, **fixed})
		added = measures + "".join(f", sum(t.`{alias}`) as `{alias}`" for alias in more)
		sql = (
			f"select {shown + ', ' if shown else ''}{added}{average_sql} "
			f"from ({' union all '.join(parts)}) t"
			+ (f" group by {outer}" if outer else "")
			+ " having sum(t.opportunities) > 0"
		)
	_maybe_fold()
	if floats:
		return _as_floats(sql, values, [*group_by, *fixed], ["base_amount", "base_forecast_amount", *more])
	rows = frappe.db.sql(sql, values, as_dict=True)
	for row in rows:  # SUM of counts is a DECIMAL to MariaDB: counts are whole numbers, as COUNT gives them
		row.opportunities, row.amount_rows = int(row.opportunities), int(row.amount_rows)
	return rows


def _as_floats(sql: str, values: dict, keys: list[str], sums: list[str]) -> list[frappe._dict]:
	"""The rows of `sql`: its `keys`, the count of opportunities as an int and the `sums` as floats, the
	numbers read from one space-separated text a row (a decimal's text: float() of it is the float of the
	decimal)."""
	shown = ", ".join(f"p.`{key}`" for key in keys)
	numbers = ", ".join(f"p.`{name}`" for name in ("opportunities", *sums))
	packed = f"select {shown + ', ' if shown else ''}concat_ws(' ', {numbers}) from ({sql}) p"
	rows = []
	for *key_values, text in frappe.db.sql(packed, values):
		count, *amounts = text.split(" ")
		row = frappe._dict(zip(keys, key_values, strict=True))
		row.opportunities = int(count)
		row.update(zip(sums, map(float, amounts), strict=True))
		rows.append(row)
	return rows


def _waiting_deltas() -> bool:
	return bool(frappe.db.sql(f"select 1 from `{DELTAS}` limit 1"))


def _maybe_fold() -> None:
	low, high = frappe.db.sql(f"select min(id), max(id) from `{DELTAS}`")[0]
	if low is not None and high - low >= FOLD_AFTER:
		enqueue_fold()


def count(filters) -> int | None:
	"""How many opportunities the session user reads under `filters`; None when the summary can't say."""
	scope, parsed = read_scope(), parse_filters(filters)
	if scope is None or parsed is None:
		return None
	rows = grouped_totals(scope, {}, parsed)
	return int(rows[0].opportunities) if rows else 0


FORECAST_DETAIL = ("sales_stage", "assigned_to")  # what a forecast row can be grouped by beside its period


def forecast_rows(
	filters: frappe._dict,
	categories: dict[str, str] | None = None,
	detail: tuple[str, ...] = FORECAST_DETAIL,
) -> list | None:
	"""The Opportunity Forecast report's sums, or None when the summary can't answer: dates not whole
	months, an Organization filter, or a scope it doesn't hold.

	Without `categories`: forecast_report.query_totals' rows (per period, stage, assignee, status and
	forecast category). With them ({column: category}): the report's rows, per period (`close_month`, or
	`year` and `part` by quarter) and the `detail` columns (of FORECAST_DETAIL: `("sales_stage",)` per
	period × stage, `()` per period alone), each category's base amount in its column."""
	from frappe.utils import add_days, get_first_day

	if not set(detail) <= set(FORECAST_DETAIL):
		raise ValueError(f"forecast rows are grouped by {FORECAST_DETAIL}, not {detail}")
	from_date, to_date = filters.from_date, filters.to_date
	if from_date.day != 1 or add_days(to_date, 1).day != 1 or filters.get("organization"):
		return None
	parsed = []
	if filters.get("status") and filters.get("group_by") != "Owner":
		parsed.append(("status", "=", (filters.status,)))
	for field in ("assigned_to", "sales_stage", "forecast_category"):
		if filters.get(field):
			parsed.append((field, "=", (filters.get(field),)))
	if filters.get("team"):
		parsed.append(("assigned_to", "in", tuple(visibility.team_of(filters.team))))
	scope = read_scope()
	if scope is None:
		return None
	# by month: grouped by the month's first day itself (the same groups and order as year, month),
	# which the summary's index holds in order
	months = filters.period != "Quarter"
	# a status filter holds it to one value: grouped without it, in the index's order (no temporary table)
	one_status = any(field == "status" for field, _op, _values in parsed)
	by_status = categories is None
	rows = grouped_totals(
		scope,
		{
			**(
				{"close_month": "t.close_month"}
				if months
				else {"year": "year(t.close_month)", "part": "quarter(t.close_month)"}
			),
			**{name: f"t.{name}" for name in (FORECAST_DETAIL if by_status else detail)},
			**({"status": "t.status"} if by_status and not one_status else {}),
			**({"forecast_category": "t.forecast_category"} if by_status else {}),
		},
		parsed,
		[
			(
				"t.close_month between %(from_month)s and %(to_month)s",
				{"from_month": from_date, "to_month": get_first_day(to_date)},
			)
		],
		fixed={"status": "t.status"} if by_status and one_status else None,
		sums={
			column: f"case when t.forecast_category = {frappe.db.escape(category)} then t.base_amount else 0 end"
			for column, category in (categories or {}).items()
		},
		floats=not by_status,  # the report's rows: thousands per stage and assignee, floats to them
		# per period (× stage): a hundred groups, not the report index's order, read in one pass
		scan=not by_status and "assigned_to" not in detail,
	)
	for row in rows if months and by_status else ():
		row.year, row.part = row.close_month.year, row.close_month.month
	return rows


def column_totals(filters) -> list[frappe._dict] | None:
	"""Kanban: count and sums per sales stage under the board's filters; None when the summary can't say."""
	scope, parsed = read_scope(), parse_filters(filters)
	if scope is None or parsed is None:
		return None
	rows = grouped_totals(scope, {"sales_stage": "t.sales_stage"}, parsed)
	return sorted(rows, key=lambda r: r.sales_stage or "")


def group_by_count(field: str, filters) -> list[frappe._dict] | None:
	"""The list sidebar's counts per value of `field` (Frappe's get_group_by_count: count desc, the
	session user's own first for `owner`, 50 at most); None when the summary can't say."""
	if field not in FILTERABLE:
		return None
	scope, parsed = read_scope(), parse_filters(filters)
	if scope is None or parsed is None:
		return None
	rows = grouped_totals(scope, {"name": f"t.`{field}`"}, parsed)
	data = [frappe._dict(count=int(r.opportunities), name=r.name) for r in rows]
	data.sort(key=lambda r: (-r.count, str(r.name or "")))
	if field == "owner":  # as Frappe's own (which never moves the first row: its index 0 is falsy)
		owner_idx = next((i for i, r in enumerate(data) if r.name == frappe.session.user), None)
		if owner_idx:
			return [data.pop(owner_idx), *data[0:49]]
	return data[0:50]


def assigned_to_count(filters) -> list[frappe._dict] | None:
	"""The sidebar's Assigned To (api/client.py get_group_by_count): per System User, the to-dos that aren't
	Cancelled on the opportunities the session user reads under `filters`; count desc, 50 at most. None
	when the summary can't say."""
	from collections import Counter

	scope, parsed = read_scope(), parse_filters(filters)
	if scope is None or parsed is None:
		return None
	counts = Counter()
	for row in grouped_totals(scope, {"name": "t.todo_assignees"}, parsed):
		for user in json.loads(row.name) if row.name else ():
			counts[user] += row.opportunities
	system_users = set(
		frappe.get_all(
			"User", filters={"name": ("in", list(counts)), "user_type": "System User"}, pluck="name"
		)
		if counts
		else ()
	)
	data = [frappe._dict(name=user, count=n) for user, n in counts.items() if user in system_users and n > 0]
	data.sort(key=lambda r: (-r.count, r.name))
	return data[0:50]


def answerable_card(doc: dict, to_date, sums: tuple, average: bool = False) -> bool:
	"""Is the number card one a summary may answer: a Document Type card on Opportunity without a `to_date`
	that counts, sums one of the fields `sums` (or, `average`, averages the base amount)?"""
	function, field = doc.get("function"), doc.get("aggregate_function_based_on")
	return bool(
		not to_date
		and doc.get("document_type") == DOCTYPE
		and not doc.get("parent_document_type")
		and (doc.get("type") or "Document Type") == "Document Type"
		and (
			function == "Count"
			or (function == "Sum" and field in sums)
			or (average and function == "Average" and field == "base_amount")
		)
	)


def number_card(doc: dict, filters, to_date=None) -> float | None:
	"""A Document Type number card on Opportunity: Count, Sum of a base amount, or Average of the base
	amount; None when the summary can't say (another function or field, a `to_date`, other filters)."""
	from frappe.utils import flt

	if not answerable_card(doc, to_date, sums=AMOUNTS, average=True):
		return None
	function, field = doc.get("function"), doc.get("aggregate_function_based_on")
	scope, parsed = read_scope(), parse_filters(filters)
	if scope is None or parsed is None:
		return None
	rows = grouped_totals(scope, {}, parsed, average=True)
	if not rows:
		return 0.0
	row = rows[0]
	if function == "Count":
		return flt(row.opportunities)
	return flt(row.average_amount if function == "Average" else row[field])
