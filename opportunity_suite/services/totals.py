"""Pre-aggregated opportunity totals: the whole-table counts and sums the desk asks for, at a million rows.

The Opportunity Forecast report and its workspace chart, the Kanban column totals, the number cards, the
list sidebar's group-by counts and the list's full count each aggregate every opportunity a user may read:
0.2–7 s at 1,000,000 rows, however they are indexed (the report's GROUP BY over four text columns alone is
5 s). They group and filter by few columns, so one summary answers them all: per combination of

    sales stage, status, forecast category, owner, assigned to, `_assign`, currency, stale flag and the
    month of the expected close, and who its to-dos are allocated to (the sidebar's Assigned To)

the number of opportunities, how many have a base amount, and the sums of the base (default-currency)
amount and forecast. 16,027 rows for the benchmark's million deals. `owner`, `assigned_to` and
`_assign` are what private visibility decides by (services/visibility.py), so the same condition, applied
to the summary, selects the same deals' totals.

Four tables, none a DocType (no Frappe schema sync touches them; `bench trim-tables` ignores `__` tables):

- `__opportunity_totals_rows`: per opportunity, what the summary counts it for (its dimensions and
  amounts). Every write path calls `refresh(names)` after writing (or `refresh_range` for a key range):
  the difference between the deal as stored and as counted becomes a delta, and the row is brought up to
  date. Idempotent and order-free: calling it twice, or for a deal that didn't change, adds nothing; a
  path that misses it leaves a difference that the next refresh of that deal (or `rebuild`) repairs.
- `__opportunity_totals_delta`: append-only changes (a plain INSERT with an auto-increment key: no row
  is shared between concurrent saves, so creates neither deadlock nor queue on a hot totals row, which an
  `INSERT … ON DUPLICATE KEY UPDATE` of the summary itself would do: its next-key locks put concurrent
  savers of one group in a line, and two groups' gap locks in a deadlock).
- `__opportunity_totals_coarse`: the same without owner, assignees and month (~20 rows), for the calls
  that group and filter by none of them for a user who sees every deal (Kanban, cards, counts, sidebar).
- `__opportunity_totals`: the summary, keyed by a hash of the dimensions; `fold` (a job, one at a time,
  every scheduler tick and after imports and recomputes) moves the deltas into it in one transaction.

A read adds the summary and the unfolded deltas (`union all`, one statement: one consistent snapshot).

What the summary answers, and what falls back to the query it replaces (`answerable`): filters `=` (with
a non-empty value) or `in` on its dimensions; the report's month-aligned date ranges; a user with read
permission whose Frappe read conditions are none or exactly the app's visibility condition. Anything else
(a `like`, `!=`, a date filter on the list, `organization`, a User Permission, a server-script condition, a
user who reads only what was shared with them) runs the original query. Deals shared with a private user
are read from the opportunities themselves (a few, by name) and added to what the summary gives."""

import json

import frappe
from frappe.model.db_query import DatabaseQuery

from opportunity_suite.services import outcome_totals, visibility

DOCTYPE = "Opportunity"
ROWS = "__opportunity_totals_rows"
TOTALS = "__opportunity_totals"
COARSE = "__opportunity_totals_coarse"  # the same without owner, assignees and month: ~50 rows
DELTAS = "__opportunity_totals_delta"
FOLD_JOB = "opportunity_suite:fold_totals"
REPORT_INDEX = "report_order"
FOLD_AFTER = 20_000  # unfolded deltas beyond this: a read asks for a fold
OFF_SWITCH = "opportunity_suite_totals_off"  # site config: every read runs its own query (kept in step still)

DIMENSIONS = (
	("sales_stage", "varchar(140)"),
	("status", "varchar(140)"),
	("forecast_category", "varchar(140)"),
	("owner", "varchar(140)"),
	("assigned_to", "varchar(140)"),
	("_assign", "text"),
	("currency", "varchar(140)"),
	("is_stale", "int"),
	("close_month", "date"),
	(
		"todo_assignees",
		"text",
	),  # the sidebar's Assigned To: who its to-dos are allocated to (_todo_assignees)
)
DIMENSION_NAMES = tuple(name for name, _type in DIMENSIONS)
AMOUNTS = ("base_amount", "base_forecast_amount")
MEASURES = ("opportunities", "amount_rows", *AMOUNTS)
FILTERABLE = frozenset(DIMENSION_NAMES) - {"_assign", "close_month", "todo_assignees"}
COARSE_DIMENSIONS = ("sales_stage", "status", "forecast_category", "currency", "is_stale")
# the same with who made the deal, its Assigned To and its to-dos' assignees, but no month and no `_assign`
# (~900 rows for the benchmark's million deals, against 16,000): the sidebar's Created By and Assigned To
PEOPLE = "__opportunity_totals_people"
PEOPLE_DIMENSIONS = (*COARSE_DIMENSIONS, "owner", "assigned_to", "todo_assignees")
# each summary and what it is grouped by, the smallest last: a read takes the smallest that holds its columns
LEVELS = {TOTALS: DIMENSION_NAMES, PEOPLE: PEOPLE_DIMENSIONS, COARSE: COARSE_DIMENSIONS}


# ---------------------------------------------------------------- schema


def ensure_tables() -> bool:
	"""Create the three tables when missing; True when any was made."""
	dims = ",\n".join(f"`{name}` {kind} null" for name, kind in DIMENSIONS)
	measures = (
		"opportunities bigint not null default 0, amount_rows bigint not null default 0, "
		"base_amount decimal(36,9) not null default 0, base_forecast_amount decimal(36,9) not null default 0"
	)
	tail = "engine=InnoDB default charset=utf8mb4 collate=utf8mb4_unicode_ci"
	tables = {
		ROWS: f"name varchar(140) not null primary key, {dims}, "
		"base_amount decimal(21,9) null, base_forecast_amount decimal(21,9) null",
		TOTALS: f"dims_key char(40) character set ascii not null primary key, {dims}, {measures}, "
		# the report and the chart read a status's months in their GROUP BY's order: no temporary table
		f"index {REPORT_INDEX} (status, close_month, sales_stage, assigned_to, forecast_category)",
		**{
			level: "dims_key char(40) character set ascii not null primary key, "
			+ ", ".join(f"`{name}` {kind} null" for name, kind in DIMENSIONS if name in names)
			+ f", {measures}"
			for level, names in LEVELS.items()
			if level != TOTALS
		},
		DELTAS: f"id bigint not null auto_increment primary key, {dims}, {measures}",
	}
	made = False
	for table, columns in tables.items():
		if not frappe.db.sql("show tables like %s", (table,)):
			frappe.db.sql_ddl(f"create table `{table}` ({columns}) {tail}")
			made = True
	if frappe.db.sql(f"show index from `{TOTALS}` where Key_name = 'status_month'"):  # an earlier version's
		frappe.db.sql_ddl(f"alter table `{TOTALS}` drop index status_month")
	for table in (ROWS, TOTALS, DELTAS):  # made before the to-dos' assignees were a dimension
		if not frappe.db.sql(f"show columns from `{table}` like 'todo_assignees'"):
			frappe.db.sql_ddl(f"alter table `{table}` add column `todo_assignees` text null")
	if not frappe.db.sql(f"show index from `{TOTALS}` where Key_name = %s", REPORT_INDEX):  # made before it
		frappe.db.sql_ddl(
			f"alter table `{TOTALS}` add index {REPORT_INDEX} "
			"(status, close_month, sales_stage, assigned_to, forecast_category)"
		)
	return made


def _dimension_of(name: str, alias: str, todos: str | None = None) -> str:
	"""The dimension `name` of an Opportunity row `alias` (`todos`: the SQL of its to-dos' assignees, when
	read beforehand)."""
	if name == "close_month":  # the first day of the expected close's month
		return f"{alias}.expected_close_date - interval (dayofmonth({alias}.expected_close_date) - 1) day"
	if name == "todo_assignees":
		return todos or _todo_assignees(alias)
	return f"{alias}.`{name}`"


def _todo_assignees(alias: str) -> str:
	"""The users the to-dos of opportunity `alias` are allocated to, one entry per to-do that isn't
	Cancelled (Open and Closed: what the sidebar's Assigned To counts; `_assign` holds the Open ones only),
	as a sorted JSON array; NULL when it has none."""
	return (
		"(select json_arrayagg(td.allocated_to order by td.allocated_to) from `tabToDo` td "
		f"where td.reference_type = '{DOCTYPE}' and td.reference_name = {alias}.name "
		"and td.status <> 'Cancelled' and td.allocated_to <> '')"
	)


def _key(alias: str, names: tuple[str, ...] = DIMENSION_NAMES) -> str:
	"""A hash of a row's dimensions, byte for byte (NULL and '' apart, case apart)."""
	parts = ", ".join(f"ifnull(concat('=', {alias}.`{name}`), '-')" for name in names)
	return f"sha1(concat_ws(char(0), {parts}))"


def _opportunity_columns(alias: str = "o", todos: str | None = None) -> str:
	return ", ".join(f"{_dimension_of(name, alias, todos)} as `{name}`" for name in DIMENSION_NAMES)


def _contribution(alias: str, sign: str, from_opportunity: bool, todos: str | None = None) -> str:
	"""The dimensions and signed measures one row adds (`sign` '' or '-')."""
	dims = (
		_opportunity_columns(alias, todos)
		if from_opportunity
		else ", ".join(f"{alias}.`{n}`" for n in DIMENSION_NAMES)
	)
	return (
		f"{dims}, {sign}1 as opportunities, {sign}({alias}.base_amount is not null) as amount_rows, "
		f"{sign}ifnull({alias}.base_amount, 0) as base_amount, "
		f"{sign}ifnull({alias}.base_forecast_amount, 0) as base_forecast_amount"
	)


def _differs(o: str = "o", r: str = "r", todos: str | None = None) -> str:
	"""The stored deal `o` is not what its counted row `r` says."""
	same = [f"{_dimension_of(n, o, todos)} <=> {r}.`{n}`" for n in DIMENSION_NAMES]
	same += [f"{o}.{a} <=> {r}.{a}" for a in AMOUNTS]
	return "not (" + " and ".join(same) + ")"


def _grouped(select: str) -> str:
	"""Sum the contributions of `select` per dimension combination, leaving out those that cancel."""
	dims = ", ".join(f"min(c.`{n}`)" for n in DIMENSION_NAMES)
	sums = ", ".join(f"sum(c.{m})" for m in MEASURES)
	return (
		f"select {dims}, {sums} from ({select}) c group by {_key('c')} "
		"having sum(c.opportunities) <> 0 or sum(c.amount_rows) <> 0 "
		"or sum(c.base_amount) <> 0 or sum(c.base_forecast_amount) <> 0"
	)


# ---------------------------------------------------------------- keeping it in step


def refresh(names: list[str], new: bool = False, read_todos: bool = True) -> None:
	"""Bring the summary in step with these opportunities as stored now (inserted, saved, deleted, renamed
	away), in the caller's transaction. `new`: all of them were inserted in this transaction (no counted
	row to read or lock). `read_todos` False: their to-dos didn't change (a to-do's own events refresh its
	deal), so their assignees are taken as counted instead of read (with locks) again."""
	names = list(dict.fromkeys(n for n in names or [] if n))
	outcome_totals.refresh(names, new)  # the closed deals' summary (services/outcome_totals.py)
	if not names or not _ready():
		return
	for start in range(0, len(names), 1000):
		_sync(names[start : start + 1000], new, read_todos)


def refresh_range(after: str, last: str) -> None:
	"""The same for every opportunity with `after` < name <= `last` (a set-based writer's key range)."""
	outcome_totals.refresh_range(after, last)
	if _ready():
		_sync_where("{}.name > %(after)s and {}.name <= %(last)s", {"after": after, "last": last})


def refresh_forecast_range(after: str, last: str) -> None:
	"""For a writer that changed only forecasts in a key range (the recompute's range UPDATE): each counted
	deal whose forecast moved adds one delta of that change to the group it is counted in, and only its
	counted forecast is rewritten. The summary stays the sum of the counted rows, as after any refresh.

	Against `refresh_range`: no dimension is worked out again (the to-dos' assignees, the close month),
	one row per deal is grouped instead of two (the deal as stored, less the deal as counted) and one
	column written instead of every one. What it doesn't look at, it leaves as it was: a deal that isn't
	counted yet, or counted with other dimensions than it has, is its own writer's refresh to make."""
	if not _ready():
		return
	values = {"after": after, "last": last}
	moved = (
		"r.name > %(after)s and r.name <= %(last)s "
		"and not (o.base_forecast_amount <=> r.base_forecast_amount)"
	)
	columns = ", ".join(f"`{n}`" for n in (*DIMENSION_NAMES, *MEASURES))
	change = "sum(ifnull(o.base_forecast_amount, 0) - ifnull(r.base_forecast_amount, 0))"
	frappe.db.sql(
		f"""insert into `{DELTAS}` ({columns})
		select {", ".join(f"min(r.`{n}`)" for n in DIMENSION_NAMES)}, 0, 0, 0, {change}
		from `{ROWS}` r join `tabOpportunity` o on o.name = r.name where {moved}
		group by {_key("r")} having {change} <> 0""",
		values,
	)
	frappe.db.sql(
		f"""update `{ROWS}` r join `tabOpportunity` o on o.name = r.name
		set r.base_forecast_amount = o.base_forecast_amount where {moved}""",
		values,
	)


def refresh_like(pattern: str) -> None:
	"""The same for every opportunity whose name is `like` the pattern (a test's or benchmark's rows)."""
	outcome_totals.refresh_like(pattern)
	if _ready():
		_sync_where("{}.name like %(pattern)s", {"pattern": pattern})


def _ready() -> bool:
	flags = frappe.local.flags
	if flags.get("opportunity_totals_ready") is None:
		flags.opportunity_totals_ready = bool(frappe.db.sql("show tables like %s", (DELTAS,)))
	return flags.opportunity_totals_ready


def _sync(names: list[str], new: bool, read_todos: bool = True) -> None:
	if new:  # any counted already in this transaction (another writer's refresh came first) are not new
		counted = set(
			frappe.db.sql(
				f"select name from `{ROWS}` where name in %(names)s", {"names": tuple(names)}, pluck=True
			)
		)  # a plain read: no locks, and it sees this transaction's own rows
		if counted:
			_sync([n for n in names if n in counted], new=False, read_todos=read_todos)
			names = [n for n in names if n not in counted]
			if not names:
				return
	values = {"names": tuple(names)}
	if new or read_todos:  # their to-dos' assignees by a plain read, see _sync_where
		values["todo_assignees"] = json.dumps(
			frappe.db.sql(
				f"select o.name, {_todo_assignees('o')} from `tabOpportunity` o where o.name in %(names)s",
				values,
			)
		)
	if new:  # inserted by this transaction: their rows are locked already, and none is counted or gone
		_sync_where("{}.name in %(names)s", values, new=True)
		return
	# lock in a fixed order (the deal, then its counted row) so that two refreshes of one deal queue
	# instead of deadlocking; a new deal has no counted row to lock (and locking a missing key would take a
	# gap lock that concurrent creates' inserts wait for)
	present = set(
		frappe.db.sql(
			"select name from `tabOpportunity` where name in %(names)s for update", values, pluck=True
		)
	)
	frappe.db.sql(f"select name from `{ROWS}` where name in %(names)s for update", values)
	_sync_where("{}.name in %(names)s", values, read_todos=read_todos)
	gone = [n for n in names if n not in present]
	if gone:
		frappe.db.sql(f"delete from `{ROWS}` where name in %(gone)s", {"gone": tuple(gone)})


def _sync_where(condition: str, values: dict, new: bool = False, read_todos: bool = True) -> None:
	"""Deltas for the opportunities matching `condition` (a template on a table alias) that changed since
	counted, new or gone, then their counted rows brought up to date. `new`: none of them is counted yet,
	so the counted rows aren't read at all (an INSERT … SELECT reads with locks, and probing a key that
	isn't there locks the gap where every concurrent create inserts its own: two creates would deadlock).
	So, too, their to-dos' assignees, read by `_sync` beforehand (a new deal's to-dos are its creator's:
	reading their index with locks before they are inserted would take that gap)."""
	o, r = condition.format("o", "o"), condition.format("r", "r")
	counted_new = "" if new else f"left join `{ROWS}` r on r.name = o.name"
	todos, read = None, ""
	if "todo_assignees" in values:  # read by _sync
		read = (
			" left join json_table(%(todo_assignees)s, '$[*]' columns (name varchar(140) path '$[0]', "
			"todos text path '$[1]')) ta on ta.name = o.name"
		)
		counted_new, todos = counted_new + read, "ta.todos"
	elif not read_todos:  # as counted (a deal not counted yet: read)
		todos = f"if(r.name is null, {_todo_assignees('o')}, r.todo_assignees)"
	changed = "" if new else f"and (r.name is null or {_differs(todos=todos)})"
	parts = [
		f"select {_contribution('o', '', True, todos)} from `tabOpportunity` o {counted_new} where {o} {changed}"
	]
	if not new:
		parts += [
			f"select {_contribution('r', '-', False)} from `{ROWS}` r "
			f"left join `tabOpportunity` o on o.name = r.name{read} "
			f"where {r} and (o.name is null or {_differs(todos=todos)})"
		]
	columns = ", ".join(f"`{n}`" for n in (*DIMENSION_NAMES, *MEASURES))
	frappe.db.sql(
		f"insert into `{DELTAS}` ({columns}) {_grouped(' union all '.join(parts))}",
		values,
	)
	counted = ", ".join(f"`{n}`" for n in (*DIMENSION_NAMES, *AMOUNTS))
	update = ", ".join(f"`{n}` = values(`{n}`)" for n in (*DIMENSION_NAMES, *AMOUNTS))
	frappe.db.sql(
		f"""insert into `{ROWS}` (name, {counted})
		select o.name, {_opportunity_columns("o", todos)}, o.base_amount, o.base_forecast_amount
		from `tabOpportunity` o {counted_new} where {o} {changed}
		on duplicate key update {update}""",
		values,
	)
	if not new and "names" not in values:  # a range: counted rows of deals gone from it
		frappe.db.sql(
			f"""delete r from `{ROWS}` r left join `tabOpportunity` o on o.name = r.name
			where {r} and o.name is null""",
			values,
		)


def fold() -> int:
	"""Move the deltas into the summary (one transaction, one fold at a time). Returns the deltas moved."""
	if not _ready():
		return 0
	if not frappe.db.sql("select get_lock(%s, 0)", (FOLD_JOB,))[0][0]:
		return 0  # another fold is running
	try:
		top = frappe.db.sql(f"select max(id) from `{DELTAS}`")[0][0]
		if not top:
			return 0
		add = ", ".join(f"{m} = {m} + values({m})" for m in MEASURES)
		for table, names in LEVELS.items():
			# an INSERT … SELECT reads its source with locks: a delta still being written (id <= top, its
			# transaction open) is waited for and moved, never deleted unmoved
			frappe.db.sql(
				f"""insert into `{table}` (dims_key, {", ".join(f"`{n}`" for n in names)}, {", ".join(MEASURES)})
				select {_key("d", names)}, {", ".join(f"min(d.`{n}`)" for n in names)},
					{", ".join(f"sum(d.{m})" for m in MEASURES)}
				from `{DELTAS}` d where d.id <= %(top)s group by {_key("d", names)}
				on duplicate key update {add}""",
				{"top": top},
			)
			frappe.db.sql(f"delete from `{table}` where opportunities = 0 and amount_rows = 0")
		frappe.db.sql(f"delete from `{DELTAS}` where id <= %(top)s", {"top": top})
		frappe.db.commit()
		return top
	finally:
		frappe.db.sql("select release_lock(%s)", (FOLD_JOB,))


def enqueue_fold() -> None:
	"""Asked by a read (a GET: nothing commits after it, so the job is queued at once)."""
	frappe.enqueue(
		"opportunity_suite.services.totals.fold",
		queue="short",
		job_id=FOLD_JOB,
		deduplicate=True,
	)


def rebuild() -> int:
	"""The summary made again from the opportunities, set-based (a migrate; a repair). Run it while no
	opportunity is written (a migrate): a write between its read and its swap would be left out.
	Returns the number of summary rows."""
	ensure_tables()
	counted = ", ".join(f"`{n}`" for n in (*DIMENSION_NAMES, *AMOUNTS))
	for table in (ROWS, *LEVELS):
		frappe.db.sql_ddl(f"drop table if exists `{table}_new`")
		frappe.db.sql_ddl(f"create table `{table}_new` like `{table}`")
	frappe.db.sql(
		f"""insert into `{ROWS}_new` (name, {counted})
		select o.name, {_opportunity_columns()}, o.base_amount, o.base_forecast_amount
		from `tabOpportunity` o"""
	)
	for table, names in LEVELS.items():
		frappe.db.sql(
			f"""insert into `{table}_new` (dims_key, {", ".join(f"`{n}`" for n in names)},
				{", ".join(MEASURES)})
			select {_key("c", names)}, {", ".join(f"min(c.`{n}`)" for n in names)},
				{", ".join(f"sum(c.{m})" for m in MEASURES)}
			from (select {_contribution("r", "", False)} from `{ROWS}_new` r) c group by {_key("c", names)}"""
		)
	frappe.db.sql(f"delete from `{DELTAS}`")
	frappe.db.commit()
	tables = (ROWS, *LEVELS)
	frappe.db.sql_ddl("rename table " + ", ".join(f"`{t}` to `{t}_old`, `{t}_new` to `{t}`" for t in tables))
	for table in tables:
		frappe.db.sql_ddl(f"drop table `{table}_old`")
	frappe.local.flags.opportunity_totals_ready = None
	outcome_totals.rebuild()
	return frappe.db.sql(f"select count(*) from `{TOTALS}`")[0][0]


def ensure_totals() -> None:
	"""After every migrate: the tables, and the summary rebuilt from the opportunities."""
	if frappe.db.table_exists(DOCTYPE):
		rebuild()


def check() -> list[dict]:
	"""Where the summary (with its deltas) differs from the opportunities aggregated now: [] when in step.
	Each difference: the dimensions and measures as stored minus as counted."""
	dims = ", ".join(f"`{n}`" for n in DIMENSION_NAMES)
	stored = (
		f"select {_contribution('o', '', True)} from `tabOpportunity` o union all "
		f"select {dims}, -opportunities, -amount_rows, -base_amount, -base_forecast_amount "
		f"from `{TOTALS}` union all "
		f"select {dims}, -opportunities, -amount_rows, -base_amount, -base_forecast_amount from `{DELTAS}`"
	)
	differences = frappe.db.sql(_grouped(stored), as_dict=True)
	sums = ", ".join(f"sum(c.{m})" for m in MEASURES)
	for level, names in LEVELS.items():  # each smaller summary: the fine one added up
		if level == TOTALS:
			continue
		columns = ", ".join(f"`{n}`" for n in names)
		differences += frappe.db.sql(
			f"""select {columns}, {sums} from (
				select {columns}, {", ".join(MEASURES)} from `{TOTALS}` union all
				select {columns}, -opportunities, -amount_rows, -base_amount, -base_forecast_amount
				from `{level}`
			) c group by {_key("c", names)}
			having sum(c.opportunities) <> 0 or sum(c.amount_rows) <> 0 or sum(c.base_amount) <> 0
				or sum(c.base_forecast_amount) <> 0""",
			as_dict=True,
		)
	rows = frappe.db.sql(
		f"""select count(*) from `tabOpportunity` o left join `{ROWS}` r on r.name = o.name
		where r.name is null or {_differs()}"""
	)[0][0]
	rows += frappe.db.sql(
		f"""select count(*) from `{ROWS}` r left join `tabOpportunity` o on o.name = r.name
		where o.name is null"""
	)[0][0]
	if rows:
		differences.append({"counted_rows_out_of_step": rows})
	return differences


# ---------------------------------------------------------------- events (hooks.py)


def after_insert(doc, method=None):
	refresh([doc.name], new=True)


def on_change(doc, method=None):
	"""An opportunity saved, deleted or renamed (after_rename passes the new name; the old one goes too)."""
	refresh([doc.name], read_todos=False)


def on_rename(doc, method=None, old=None, new=None, merge=False):
	refresh([old, new])


def on_todo_change(doc, method=None):
	"""A to-do of an opportunity changed: Frappe rewrote its `_assign` (and the app its `assigned_to`), and
	who its to-dos are allocated to changed; a to-do moved to another record leaves the one it was on."""
	names = [doc.reference_name] if doc.reference_type == DOCTYPE else []
	before = doc.get_doc_before_save() if method == "on_update" else None
	if before and before.reference_type == DOCTYPE:
		names.append(before.reference_name)
	refresh(names)


# ---------------------------------------------------------------- reading


class Scope:
	"""Which opportunities' totals a user reads: every one, or their team's (private visibility) plus the
	deals shared with them."""

	def __init__(self, user: str, private: bool):
		self.user, self.private = user, private

	# SQL text with values escaped by visibility.py, % doubled: the statements they go into take parameters
	def team(self, alias: str) -> str:
		return visibility.team_condition(self.user, f"`{alias}`").replace("%", "%%")

	def shared(self) -> str:
		return visibility.shared_condition(DOCTYPE, self.user, "`o`").replace("%", "%%")


def read_scope() -> Scope | None:
	"""The session user's scope when the summary can answer for them, else None (the caller falls back).
	The same Frappe read conditions a list would apply must be none, or exactly the app's visibility."""
	user = frappe.session.user
	if frappe.conf.get(OFF_SWITCH) or not _ready() or not frappe.has_permission(DOCTYPE, "read", user=user):
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
) -> list[frappe._dict]:
	"""Counts and sums per `group_by` ({alias: SQL over the summary's columns `t`}) of the deals in `scope`
	matching `filters` (and raw `where` conditions on `t`, with their values). `sums`: more sums, {alias:
	SQL over `t`}, e.g. an amount of one category only.

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

	def part(table: str, extra: str = "") -> str:
		where_sql = " and ".join([*conditions, *([extra] if extra else [])])
		return (
			f"select {keys + ', ' if keys else ''}{sums} from {table} t"
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
	parts = [part(f"`{level}`", team)]
	if _waiting_deltas():
		parts.append(part(f"`{DELTAS}`", team))
	if scope.private:  # shared with the user, and not already theirs by owner or assignee
		mine = ", ".join(f"{_dimension_of(n, 'o')} as `{n}`" for n in DIMENSION_NAMES if n != "_assign")
		shared = (
			f"(select {mine}, 1 as opportunities, (o.base_amount is not null) as amount_rows, "
			"ifnull(o.base_amount, 0) as base_amount, ifnull(o.base_forecast_amount, 0) as base_forecast_amount "
			f"from `tabOpportunity` o where {scope.shared()} and not ifnull({scope.team('o')}, 0))"
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
	rows = frappe.db.sql(sql, values, as_dict=True)
	for row in rows:  # SUM of counts is a DECIMAL to MariaDB: counts are whole numbers, as COUNT gives them
		row.opportunities, row.amount_rows = int(row.opportunities), int(row.amount_rows)
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


def forecast_rows(filters: frappe._dict, categories: dict[str, str] | None = None) -> list | None:
	"""The Opportunity Forecast report's sums, or None when the summary can't answer: dates not whole
	months, an Organization filter, or a scope it doesn't hold.

	Without `categories`: forecast_report.query_totals' rows (per period, stage, assignee, status and
	forecast category). With them ({column: category}): the stage view's rows, per period (`close_month`,
	or `year` and `part` by quarter), stage and assignee, each category's base amount in its column."""
	from frappe.utils import add_days, get_first_day

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
			"sales_stage": "t.sales_stage",
			"assigned_to": "t.assigned_to",
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


def number_card(doc: dict, filters, to_date=None) -> float | None:
	"""A Document Type number card on Opportunity: Count, Sum of a base amount, or Average of the base
	amount; None when the summary can't say (another function or field, a `to_date`, other filters)."""
	from frappe.utils import flt

	function, field = doc.get("function"), doc.get("aggregate_function_based_on")
	if (
		to_date
		or doc.get("document_type") != DOCTYPE
		or doc.get("parent_document_type")
		or (doc.get("type") or "Document Type") != "Document Type"
		or not (
			function == "Count"
			or (function == "Sum" and field in AMOUNTS)
			or (function == "Average" and field == "base_amount")
		)
	):
		return None
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
