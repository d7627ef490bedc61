"""Keeping the pre-aggregated totals in step: every write path's refresh, the fold of the deltas into the
summary, the rebuild at migrate and the consistency check (services/totals/__init__.py says how)."""

import json

import frappe

from opportunity_suite.services import outcome_totals, stage_viewers
from opportunity_suite.services.totals.schema import (
	AMOUNTS,
	DELTAS,
	DIMENSION_NAMES,
	DOCTYPE,
	FOLD_JOB,
	LEVELS,
	MEASURES,
	ROWS,
	TOTALS,
	contribution,
	differs,
	ensure_tables,
	grouped,
	key,
	opportunity_columns,
	ready,
	todo_assignees,
)


def refresh(names: list[str], new: bool = False, read_todos: bool = True) -> None:
	"""Bring the summary in step with these opportunities as stored now (inserted, saved, deleted, renamed
	away), in the caller's transaction. `new`: all of them were inserted in this transaction (no counted
	row to read or lock). `read_todos` False: their to-dos didn't change (a to-do's own events refresh its
	deal), so their assignees are taken as counted instead of read (with locks) again."""
	names = list(dict.fromkeys(n for n in names or [] if n))
	outcome_totals.refresh(names, new)  # the closed deals' summary (services/outcome_totals.py)
	stage_viewers.refresh(names)  # who reads their stage history (services/stage_viewers.py)
	if not names or not ready():
		return
	for start in range(0, len(names), 1000):
		_sync(names[start : start + 1000], new, read_todos)


def refresh_range(after: str, last: str) -> None:
	"""The same for every opportunity with `after` < name <= `last` (a set-based writer's key range)."""
	outcome_totals.refresh_range(after, last)
	stage_viewers.refresh_range(after, last)
	if ready():
		_sync_where("{}.name > %(after)s and {}.name <= %(last)s", {"after": after, "last": last})


def refresh_forecast_range(after: str, last: str) -> None:
	"""For a writer that changed only forecasts in a key range (the recompute's range UPDATE): each counted
	deal whose forecast moved adds one delta of that change to the group it is counted in, and only its
	counted forecast is rewritten. The summary stays the sum of the counted rows, as after any refresh.

	Against `refresh_range`: no dimension is worked out again (the to-dos' assignees, the close month),
	one row per deal is grouped instead of two (the deal as stored, less the deal as counted) and one
	column written instead of every one. What it doesn't look at, it leaves as it was: a deal that isn't
	counted yet, or counted with other dimensions than it has, is its own writer's refresh to make."""
	if not ready():
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
		group by {key("r")} having {change} <> 0""",
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
	stage_viewers.refresh_like(pattern)
	if ready():
		_sync_where("{}.name like %(pattern)s", {"pattern": pattern})


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
				f"select o.name, {todo_assignees('o')} from `tabOpportunity` o where o.name in %(names)s",
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
		# a derived table MariaDB materializes (the LIMIT keeps it from being merged into the join) and
		# gives a key on `name`: a lookup per deal, where a JSON_TABLE joined as such has no index and is
		# scanned whole for each deal (0.5 s for a batch of 2,500 deals against 0.07 s)
		read = (
			" left join (select * from json_table(%(todo_assignees)s, '$[*]' columns ("
			"name varchar(140) path '$[0]', todos text path '$[1]')) j limit 18446744073709551615) ta "
			"on ta.name = o.name"
		)
		counted_new, todos = counted_new + read, "ta.todos"
	elif not read_todos:  # as counted (a deal not counted yet: read)
		todos = f"if(r.name is null, {todo_assignees('o')}, r.todo_assignees)"
	changed = "" if new else f"and (r.name is null or {differs(todos=todos)})"
	columns = ", ".join(f"`{n}`" for n in (*DIMENSION_NAMES, *MEASURES))
	if not new:  # what changed: the deals as stored less as counted, before the counted rows change
		parts = [
			f"select {contribution('o', '', True, todos)} from `tabOpportunity` o {counted_new} "
			f"where {o} {changed}",
			f"select {contribution('r', '-', False)} from `{ROWS}` r "
			f"left join `tabOpportunity` o on o.name = r.name{read} "
			f"where {r} and (o.name is null or {differs(todos=todos)})",
		]
		frappe.db.sql(f"insert into `{DELTAS}` ({columns}) {grouped(' union all '.join(parts))}", values)
	counted = ", ".join(f"`{n}`" for n in (*DIMENSION_NAMES, *AMOUNTS))
	update = ", ".join(f"`{n}` = values(`{n}`)" for n in (*DIMENSION_NAMES, *AMOUNTS))
	frappe.db.sql(
		f"""insert into `{ROWS}` (name, {counted})
		select o.name, {opportunity_columns("o", todos)}, o.base_amount, o.base_forecast_amount
		from `tabOpportunity` o {counted_new} where {o} {changed}
		on duplicate key update {update}""",
		values,
	)
	if new:  # what they add: their counted rows just made, read back (narrow rows, no dimension worked out
		# again: the same contribution the rebuild sums), instead of reading the deals a second time
		parts = f"select {contribution('r', '', False)} from `{ROWS}` r where {r}"
		frappe.db.sql(f"insert into `{DELTAS}` ({columns}) {grouped(parts)}", values)
	if not new and "names" not in values:  # a range: counted rows of deals gone from it
		frappe.db.sql(
			f"""delete r from `{ROWS}` r left join `tabOpportunity` o on o.name = r.name
			where {r} and o.name is null""",
			values,
		)


def fold() -> int:
	"""Move the deltas into the summary (one transaction, one fold at a time). Returns the deltas moved."""
	if not ready():
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
				select {key("d", names)}, {", ".join(f"min(d.`{n}`)" for n in names)},
					{", ".join(f"sum(d.{m})" for m in MEASURES)}
				from `{DELTAS}` d where d.id <= %(top)s group by {key("d", names)}
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
		select o.name, {opportunity_columns()}, o.base_amount, o.base_forecast_amount
		from `tabOpportunity` o"""
	)
	for table, names in LEVELS.items():
		frappe.db.sql(
			f"""insert into `{table}_new` (dims_key, {", ".join(f"`{n}`" for n in names)},
				{", ".join(MEASURES)})
			select {key("c", names)}, {", ".join(f"min(c.`{n}`)" for n in names)},
				{", ".join(f"sum(c.{m})" for m in MEASURES)}
			from (select {contribution("r", "", False)} from `{ROWS}_new` r) c group by {key("c", names)}"""
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
		f"select {contribution('o', '', True)} from `tabOpportunity` o union all "
		f"select {dims}, -opportunities, -amount_rows, -base_amount, -base_forecast_amount "
		f"from `{TOTALS}` union all "
		f"select {dims}, -opportunities, -amount_rows, -base_amount, -base_forecast_amount from `{DELTAS}`"
	)
	differences = frappe.db.sql(grouped(stored), as_dict=True)
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
			) c group by {key("c", names)}
			having sum(c.opportunities) <> 0 or sum(c.amount_rows) <> 0 or sum(c.base_amount) <> 0
				or sum(c.base_forecast_amount) <> 0""",
			as_dict=True,
		)
	rows = frappe.db.sql(
		f"""select count(*) from `tabOpportunity` o left join `{ROWS}` r on r.name = o.name
		where r.name is null or {differs()}"""
	)[0][0]
	rows += frappe.db.sql(
		f"""select count(*) from `{ROWS}` r left join `tabOpportunity` o on o.name = r.name
		where o.name is null"""
	)[0][0]
	if rows:
		differences.append({"counted_rows_out_of_step": rows})
	return differences


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
