"""Pre-aggregated outcomes: the closed deals' counts and default-currency sums the Win/Loss report asks for,
at a million rows (services/win_loss.py; the Forecast Accuracy report's "won" side reads the open
pipeline's totals, services/totals/, which already hold status, assignee and month of expected close).

The Win/Loss report groups the deals won or lost between two days by one of loss reason, competitor,
assignee, lead source or size band, filtered by assignee and lead source, as the user may read them
(private visibility decides by owner, Assigned To and `_assign`). One summary answers it, per

    kind (what `grouped` holds: `loss_reason`, `size_band` or `competitor`), grouped, status, month of
    `closed_on`, owner, assigned to, `_assign`, lead source

the number of rows and the sum of `base_amount`. Every Won or Lost deal counts once in kind `loss_reason`
and once in kind `size_band` (which also answers "by assignee" and "by lead source": grouped by those
columns), and in kind `competitor` once per competitor row (once with none when it has none), as the
report's left join counts it. ~130,000 rows for the benchmark's 566,000 closed deals; a year is ~11,000
rows of one kind.

Built like the open pipeline's totals: four `__` tables, none a DocType. `__outcome_rows` (per closed deal,
what it is counted for; `__outcome_competitors` its competitors as counted), `__outcome_delta` (append-only
changes: no hot row, concurrent closings never queue on one group) and `__outcome_totals` (the summary;
`fold` moves the deltas into it). `refresh(names)`, `refresh_range`, `refresh_like` and `rebuild` are called
from the open pipeline's totals' own (services/totals/), so every write path that keeps those keeps these.
An open deal has no counted row: its save costs one locking read.

`__outcome_periods`, folded from the same deltas (which carry their day), is the small one most calls read:
per report dimension (loss reason, competitor, size band, Assigned To, lead source) × a day or a month of
`closed_on` × grouped × status. A reader every deal counts for (no private visibility), with no Assigned To
or Lead Source filter, gets the whole months and the days around them from it (a year by Loss Reason: ~200
month rows and ~15 rows a day; this machine reads an index entry in ~10 µs when loaded, so the fine summary's
~22,000 rows a year took ~300 ms). Everyone else: the whole months from `__outcome_totals` (every filter the
report has, the private user's team by owner, Assigned To and `_assign`), the days of a partial month at
either end (or a range within one month) from the counted rows (`__outcome_rows.closed_on`), and the deals
shared with a private user and not their team's from the counted rows by name. A private user's team is
read by viewer key (services/stage_viewers.py), a stored generated column of the counted rows and the
summary (each indexed): the keys their team sees, from `__opportunity_viewer_keys` (where each closed deal's
key is recorded with its counted row), are a few index ranges. A user the open pipeline's
totals can't answer for (`totals.read_scope`: User Permissions, another app's condition, the off switch)
gets the report's own query."""

import frappe

from opportunity_suite.services import stage_viewers, visibility

DOCTYPE = "Opportunity"
COMPETITOR_ROW = "Opportunity Competitor"
ROWS = "__outcome_rows"
COMPETITORS = "__outcome_competitors"
TOTALS = "__outcome_totals"
PERIODS = "__outcome_periods"
DELTAS = "__outcome_delta"
FOLD_JOB = "opportunity_suite:fold_outcomes"
CLOSED = ("Won", "Lost")
KINDS = ("loss_reason", "size_band", "competitor")

# dimensions every counted deal has (its row in ROWS), then those of the summary
DEAL_DIMENSIONS = (
	("status", "varchar(140)"),
	("closed_month", "date"),
	("owner", "varchar(140)"),
	("assigned_to", "varchar(140)"),
	("_assign", "text"),
	("lead_source", "varchar(140)"),
)
DEAL_NAMES = tuple(name for name, _kind in DEAL_DIMENSIONS)
DIMENSIONS = (("kind", "varchar(20)"), ("grouped", "varchar(140)"), *DEAL_DIMENSIONS)
DIMENSION_NAMES = tuple(name for name, _kind in DIMENSIONS)
MEASURES = ("deals", "amount_rows", "base_amount")
ROW_NAMES = ("name", *DEAL_NAMES, "loss_reason", "base_amount", "closed_on")  # ROWS' columns
DELTA_NAMES = (*DIMENSION_NAMES, "closed_on")  # a delta's day too: PERIODS are folded from them
# PERIODS: per report dimension (those of kind `size_band` also by Assigned To and by Lead Source: its columns)
# × span (a day or a month of closed_on) × grouped × status, for a reader every deal counts for, unfiltered
PERIOD_NAMES = ("kind", "span", "period", "grouped", "status")
REGROUPED = {"assigned_to": "assigned_to", "lead_source": "lead_source"}
# the deal's viewer key (services/stage_viewers.py: the MD5 of its owner, Assigned To and `_assign`), made by
# MariaDB from the row's own columns on every write (nothing to keep in step): a private user's team is the
# few keys the visibility's condition finds in `__opportunity_viewer_keys`, read by index
VIEWER_KEY = "viewer_key"
_VIEWER_COLUMN = f"`{VIEWER_KEY}` char(32) as ({stage_viewers.KEY_SQL.replace('{o}.', '')}) stored"
ROWS_BY_VIEWER = "viewer_day"
TOTALS_BY_VIEWER = "kind_viewer_month"


# ---------------------------------------------------------------- schema


def _columns() -> dict[str, str]:
	dims = ", ".join(f"`{name}` {kind} null" for name, kind in DIMENSIONS)
	deal = ", ".join(f"`{name}` {kind} null" for name, kind in DEAL_DIMENSIONS)
	measures = (
		"deals bigint not null default 0, amount_rows bigint not null default 0, "
		"base_amount decimal(36,9) not null default 0"
	)
	return {
		# closed_on: the days of a partial month are read from here (narrow, and in memory), by that index
		ROWS: f"name varchar(140) not null primary key, {deal}, loss_reason varchar(140) null, "
		f"base_amount decimal(21,9) null, closed_on date null, {_VIEWER_COLUMN}, index closed_on (closed_on), "
		f"index {ROWS_BY_VIEWER} ({VIEWER_KEY}, closed_on)",
		COMPETITORS: "name varchar(140) not null, idx int not null, competitor varchar(140) null, "
		"primary key (name, idx)",
		TOTALS: f"dims_key char(40) character set ascii not null primary key, {dims}, {measures}, "
		f"{_VIEWER_COLUMN}, index kind_month (kind, closed_month), "
		f"index {TOTALS_BY_VIEWER} (kind, {VIEWER_KEY}, closed_month)",
		# read as one range of the primary key: a year by Loss Reason is ~200 month rows, a partial month's
		# days ~15 rows a day
		PERIODS: "kind varchar(20) not null, span varchar(5) not null, period date not null, "
		"dims_key char(40) character set ascii not null, grouped varchar(140) null, "
		f"status varchar(140) null, {measures}, primary key (kind, span, period, dims_key)",
		DELTAS: f"id bigint not null auto_increment primary key, {dims}, closed_on date null, {measures}",
	}


def _create(table: str, columns: str) -> None:
	frappe.db.sql_ddl(
		f"create table `{table}` ({columns}) engine=InnoDB default charset=utf8mb4 collate=utf8mb4_unicode_ci"
	)


def ensure_tables() -> None:
	for table, columns in _columns().items():
		if not frappe.db.sql("show tables like %s", (table,)):
			_create(table, columns)


def ready() -> bool:
	"""Whether the closed-deal summary's tables exist (cached for the request)."""
	flags = frappe.local.flags
	if flags.get("outcome_totals_ready") is None:
		flags.outcome_totals_ready = bool(frappe.db.sql("show tables like %s", (DELTAS,)))
	return flags.outcome_totals_ready


def keyed() -> bool:
	"""Whether the counted rows and the summary carry the viewer key (made so by a rebuild: every migrate)
	and the keys' table exists (cached for the request)."""
	flags = frappe.local.flags
	if flags.get("outcome_totals_keyed") is None:
		flags.outcome_totals_keyed = bool(
			ready()
			and frappe.db.sql(f"show index from `{ROWS}` where Key_name = %s", (ROWS_BY_VIEWER,))
			and frappe.db.sql(f"show index from `{TOTALS}` where Key_name = %s", (TOTALS_BY_VIEWER,))
			and frappe.db.sql("show tables like %s", (stage_viewers.KEYS,))
		)
	return flags.outcome_totals_keyed


def record_viewer_keys(condition: str = "1 = 1", values: dict | None = None, table: str = ROWS) -> None:
	"""Add the viewer keys of the counted rows matching `condition` (on `o`) to the keys' table, with the
	owner, Assigned To and `_assign` they are made of (a closed deal may have no history to key)."""
	rows = frappe.db.sql(
		f"""select distinct o.{VIEWER_KEY}, ifnull(o.owner, ''), ifnull(o.assigned_to, ''),
			ifnull(o._assign, '') from `{table}` o where {condition}""",
		values or {},
	)
	stage_viewers.record_keys({key: list(people) for key, *people in rows})


def size_band_sql(amount: str) -> str:
	"""The Win/Loss report's size band of a base amount, as its query computes it (NULL: the lowest)."""
	from opportunity_suite.services.win_loss import SIZE_BANDS

	whens = " ".join(
		f"when {amount} >= {low} then {frappe.db.escape(label)}" for low, label in SIZE_BANDS[:-1]
	)
	return f"case {whens} else {frappe.db.escape(SIZE_BANDS[-1][1])} end"


def _key(alias: str, names: tuple = DIMENSION_NAMES) -> str:
	parts = ", ".join(f"ifnull(concat('=', {alias}.`{name}`), '-')" for name in names)
	return f"sha1(concat_ws(char(0), {parts}))"


def _deal_columns(alias: str) -> str:
	"""A stored opportunity's counted columns (ROWS' own, but name)."""
	month = f"{alias}.closed_on - interval (dayofmonth({alias}.closed_on) - 1) day"
	return (
		f"{alias}.status as status, {month} as closed_month, {alias}.owner as owner, "
		f"{alias}.assigned_to as assigned_to, {alias}._assign as _assign, {alias}.lead_source as lead_source, "
		f"{alias}.loss_reason as loss_reason, {alias}.base_amount as base_amount, "
		f"{alias}.closed_on as closed_on"
	)


def _contributions(deals: str, competitors: str, sign: str) -> str:
	"""What the counted deals `deals` (a SELECT with ROWS' columns) add to the summary, signed, with their
	competitor rows `competitors` (a SELECT of name, competitor)."""
	deal = ", ".join(f"d.`{n}` as `{n}`" for n in (*DEAL_NAMES, "closed_on"))
	measures = (
		f"{sign}1 as deals, {sign}(d.base_amount is not null) as amount_rows, "
		f"{sign}ifnull(d.base_amount, 0) as base_amount"
	)
	return (
		f"select 'loss_reason' as kind, d.loss_reason as grouped, {deal}, {measures} from ({deals}) d union all "
		f"select 'size_band', {size_band_sql('d.base_amount')}, {deal}, {measures} from ({deals}) d union all "
		f"select 'competitor', c.competitor, {deal}, {measures} from ({deals}) d "
		f"left join ({competitors}) c on c.name = d.name"
	)


def _grouped(select: str, names: tuple = DIMENSION_NAMES) -> str:
	dims = ", ".join(f"min(c.`{n}`) as `{n}`" for n in names)
	sums = ", ".join(f"sum(c.{m}) as {m}" for m in MEASURES)
	return (
		f"select {dims}, {sums} from ({select}) c group by {_key('c', names)} "
		"having sum(c.deals) <> 0 or sum(c.amount_rows) <> 0 or sum(c.base_amount) <> 0"
	)


def _periods(select: str) -> str:
	"""PERIODS' rows (PERIOD_NAMES and measures, not yet added up) of contributions `select` (with
	closed_on), in one pass: each by its day and by its month, those of kind `size_band` also by Assigned To
	and by Lead Source; a deal with no close date is in none (no dates match it)."""
	ways = " union all ".join(
		f"select {daily} as daily, {way} as way" for daily in (1, 0) for way in (0, 1, 2)
	)
	measures = ", ".join(f"c.{m} as {m}" for m in MEASURES)
	return (
		"select case x.way when 1 then 'assigned_to' when 2 then 'lead_source' else c.kind end as kind, "
		"if(x.daily, 'day', 'month') as span, if(x.daily, c.closed_on, c.closed_month) as period, "
		"case x.way when 1 then c.assigned_to when 2 then c.lead_source else c.grouped end as grouped, "
		f"c.status as status, {measures} from ({select}) c join ({ways}) x on x.way = 0 or c.kind = 'size_band' "
		"where c.closed_on is not null"
	)


def _fold_periods(select: str) -> None:
	"""Add the contributions `select` to PERIODS (and drop the rows left at nothing)."""
	names = ", ".join(f"`{n}`" for n in PERIOD_NAMES)
	frappe.db.sql(
		f"""insert into `{PERIODS}` (dims_key, {names}, {", ".join(MEASURES)})
		select {_key("g", PERIOD_NAMES)}, g.* from ({_grouped(_periods(select), PERIOD_NAMES)}) g
		on duplicate key update {", ".join(f"`{PERIODS}`.{m} = `{PERIODS}`.{m} + values({m})" for m in MEASURES)}"""
	)


# ---------------------------------------------------------------- keeping it in step


def _stored(condition: str) -> tuple[str, str]:
	"""The closed opportunities matching `condition` (on `o`) as counted rows, and their competitor rows."""
	deals = (
		f"select o.name, {_deal_columns('o')} from `tabOpportunity` o "
		f"where o.status in ('Won', 'Lost') and {condition}"
	)
	competitors = (
		f"select r.parent as name, r.idx, r.competitor from `tab{COMPETITOR_ROW}` r "
		f"where r.parenttype = 'Opportunity' and r.parentfield = 'competitors' "
		f"and r.parent in (select o.name from `tabOpportunity` o where o.status in ('Won', 'Lost') and {condition})"
	)
	return deals, competitors


def _counted(condition: str) -> tuple[str, str]:
	"""The counted rows matching `condition` (on `o`, read as the counted row), and their competitors."""
	deals = f"select {', '.join(f'o.`{n}`' for n in ROW_NAMES)} from `{ROWS}` o where {condition}"
	competitors = (
		f"select c.name, c.idx, c.competitor from `{COMPETITORS}` c "
		f"where c.name in (select o.name from `{ROWS}` o where {condition})"
	)
	return deals, competitors


def refresh(names: list[str], new: bool = False) -> None:
	"""Bring the summary in step with these opportunities as stored now, in the caller's transaction (called
	by totals.refresh). `new`: all were inserted in this transaction (nothing counted to read or lock)."""
	names = list(dict.fromkeys(n for n in names or [] if n))
	if not names or not ready():
		return
	for start in range(0, len(names), 1000):
		chunk = tuple(names[start : start + 1000])
		values = {"names": chunk}
		# the deals locked (totals.refresh has too: this reads their current version), then their counted rows
		closed = frappe.db.sql(
			"select name from `tabOpportunity` where name in %(names)s and status in ('Won', 'Lost') "
			"for update",
			values,
		)
		# a new deal has no counted row to lock (unless another refresh in this transaction counted it: a
		# plain read sees those); locking a missing key would take a gap lock concurrent creates wait for
		counted = frappe.db.sql(
			f"select name from `{ROWS}` where name in %(names)s" + ("" if new else " for update"), values
		)
		if closed or counted:
			_sync("o.name in %(names)s", values, with_counted=bool(counted))


def refresh_range(after: str, last: str) -> None:
	"""The same for every opportunity with `after` < name <= `last` (called by totals.refresh_range)."""
	if ready():
		_sync_changed("{}.name > %(after)s and {}.name <= %(last)s", {"after": after, "last": last})


def refresh_like(pattern: str) -> None:
	"""The same for every opportunity whose name is `like` the pattern (called by totals.refresh_like)."""
	if ready():
		_sync_changed("{}.name like %(pattern)s", {"pattern": pattern})


def _sync_changed(condition: str, values: dict) -> None:
	"""Refresh, in a key range, only the deals whose counted row differs from them (a set-based writer
	rewrote every deal in it, mostly columns this summary doesn't read)."""
	same = " and ".join(
		[f"r.`{n}` <=> m.`{n}`" for n in DEAL_NAMES]
		+ [f"r.`{n}` <=> m.`{n}`" for n in ("loss_reason", "base_amount", "closed_on")]
	)
	mine = (
		f"select o.name, {_deal_columns('o')} from `tabOpportunity` o "
		f"where o.status in ('Won', 'Lost') and {condition.format('o', 'o')}"
	)
	changed = frappe.db.sql(
		f"""select m.name from ({mine}) m left join `{ROWS}` r on r.name = m.name
			where r.name is null or not ({same})
		union select r.name from `{ROWS}` r left join `tabOpportunity` o on o.name = r.name
			where {condition.format("r", "r")} and (o.name is null or o.status not in ('Won', 'Lost'))
		union select c.name from `{COMPETITORS}` c where {condition.format("c", "c")}
		union select p.parent from `tab{COMPETITOR_ROW}` p where p.parenttype = 'Opportunity'
			and {condition.format("p", "p").replace("p.name", "p.parent")}""",
		values,
		pluck=True,
	)
	# deals with competitors are few: refreshed whatever changed (comparing their lists costs more)
	refresh(changed)


def _sync(condition: str, values: dict, with_counted: bool) -> None:
	stored_deals, stored_competitors = _stored(condition)
	parts = [_contributions(stored_deals, stored_competitors, "")]
	if with_counted:
		counted_deals, counted_competitors = _counted(condition)
		parts.append(_contributions(counted_deals, counted_competitors, "-"))
	cols = ", ".join(f"`{n}`" for n in (*DELTA_NAMES, *MEASURES))
	frappe.db.sql(
		f"insert into `{DELTAS}` ({cols}) {_grouped(' union all '.join(parts), DELTA_NAMES)}", values
	)
	if with_counted:
		frappe.db.sql(
			f"delete from `{COMPETITORS}` where name in (select o.name from `{ROWS}` o where {condition})",
			values,
		)
		frappe.db.sql(f"delete o from `{ROWS}` o where {condition}", values)
	row_cols = ", ".join(f"`{n}`" for n in ROW_NAMES)
	frappe.db.sql(f"insert into `{ROWS}` ({row_cols}) {stored_deals}", values)
	frappe.db.sql(f"insert into `{COMPETITORS}` (name, idx, competitor) {stored_competitors}", values)
	if keyed():
		record_viewer_keys(condition, values)


def fold() -> int:
	"""Move the waiting deltas into the summary (the scheduler; one at a time). Returns the last id moved."""
	if not ready() or not frappe.db.sql("select get_lock(%s, 0)", (FOLD_JOB,))[0][0]:
		return 0
	try:
		top = frappe.db.sql(f"select max(id) from `{DELTAS}`")[0][0]
		if not top:
			return 0
		cols = ", ".join(f"`{n}`" for n in DIMENSION_NAMES)
		frappe.db.sql(
			f"""insert into `{TOTALS}` (dims_key, {cols}, {", ".join(MEASURES)})
			select {_key("d")}, {", ".join(f"min(d.`{n}`)" for n in DIMENSION_NAMES)},
				{", ".join(f"sum(d.{m})" for m in MEASURES)}
			from `{DELTAS}` d where d.id <= %(top)s group by {_key("d")}
			on duplicate key update {", ".join(f"{m} = {m} + values({m})" for m in MEASURES)}""",
			{"top": top},
		)
		_fold_periods(f"select * from `{DELTAS}` where id <= {int(top)}")
		for table in (TOTALS, PERIODS):
			frappe.db.sql(f"delete from `{table}` where deals = 0 and amount_rows = 0 and base_amount = 0")
		frappe.db.sql(f"delete from `{DELTAS}` where id <= %(top)s", {"top": top})
		frappe.db.commit()
		return top
	finally:
		frappe.db.sql("select release_lock(%s)", (FOLD_JOB,))


def rebuild() -> int:
	"""The summary made again from the opportunities, set-based (called by totals.rebuild: a migrate, a
	repair; while no opportunity is written). Returns the number of summary rows."""
	ensure_tables()
	tables = (ROWS, COMPETITORS, TOTALS, PERIODS, DELTAS)
	for (
		table
	) in tables:  # made as _columns says (the deltas made empty) (a migrate brings a changed table to it)
		frappe.db.sql_ddl(f"drop table if exists `{table}_new`")
		_create(f"{table}_new", _columns()[table])
	deals, competitors = _stored("1 = 1")
	row_cols = ", ".join(f"`{n}`" for n in ROW_NAMES)
	frappe.db.sql(f"insert into `{ROWS}_new` ({row_cols}) {deals}")
	frappe.db.sql(f"insert into `{COMPETITORS}_new` (name, idx, competitor) {competitors}")
	stage_viewers.ensure_table()
	record_viewer_keys(table=f"{ROWS}_new")
	counted = _contributions(
		f"select * from `{ROWS}_new`", f"select name, idx, competitor from `{COMPETITORS}_new`", ""
	)
	cols = ", ".join(f"`{n}`" for n in DIMENSION_NAMES)
	frappe.db.sql(
		f"""insert into `{TOTALS}_new` (dims_key, {cols}, {", ".join(MEASURES)})
		select {_key("g")}, g.* from ({_grouped(counted)}) g"""
	)
	# the days first (read six times below: by day and month, as grouped and by Assigned To, Lead Source)
	days = ("kind", "grouped", "status", "assigned_to", "lead_source", "closed_month", "closed_on")
	frappe.db.sql_ddl("drop temporary table if exists `__outcome_days`")
	frappe.db.sql_ddl(f"create temporary table `__outcome_days` {_grouped(counted, days)}")
	names = ", ".join(f"`{n}`" for n in PERIOD_NAMES)
	frappe.db.sql(
		f"""insert into `{PERIODS}_new` (dims_key, {names}, {", ".join(MEASURES)}) select
		{_key("g", PERIOD_NAMES)}, g.* from ({_grouped(_periods("select * from `__outcome_days`"), PERIOD_NAMES)}) g"""
	)
	frappe.db.sql_ddl("drop temporary table `__outcome_days`")
	frappe.db.commit()
	frappe.db.sql_ddl("rename table " + ", ".join(f"`{t}` to `{t}_old`, `{t}_new` to `{t}`" for t in tables))
	for table in tables:
		frappe.db.sql_ddl(f"drop table `{table}_old`")
	frappe.local.flags.outcome_totals_ready = frappe.local.flags.outcome_totals_keyed = None
	return frappe.db.sql(f"select count(*) from `{TOTALS}`")[0][0]


def check() -> list[dict]:
	"""Where the summary (with its deltas) differs from the opportunities aggregated now: [] when in step."""
	deals, competitors = _stored("1 = 1")
	dims = ", ".join(f"`{n}`" for n in DIMENSION_NAMES)
	negated = ", ".join(f"-{m} as {m}" for m in MEASURES)
	counted = _contributions(deals, competitors, "")
	stored = (
		f"select {dims}, {', '.join(MEASURES)} from ({counted}) s union all "
		f"select {dims}, {negated} from `{TOTALS}` union all select {dims}, {negated} from `{DELTAS}`"
	)
	differences = frappe.db.sql(_grouped(stored), as_dict=True)
	periods = ", ".join(f"`{n}`" for n in PERIOD_NAMES)
	deltas = f"select {', '.join(f'`{n}`' for n in DELTA_NAMES)}, {negated} from `{DELTAS}`"
	stored = (
		f"{_periods(counted)} union all select {periods}, {negated} from `{PERIODS}` "
		f"union all {_periods(deltas)}"
	)
	differences += frappe.db.sql(_grouped(stored, PERIOD_NAMES), as_dict=True)
	counted_deals, counted_competitors = _counted("1 = 1")
	cols = ", ".join(f"`{n}`" for n in ROW_NAMES)
	rows = len(
		frappe.db.sql(
			f"""select 1 from (select {cols} from ({deals}) s union all select {cols} from ({counted_deals}) c) x
			group by {cols} having count(*) <> 2"""
		)
	)
	rows += len(
		frappe.db.sql(
			f"""select 1 from (select name, idx, competitor from ({competitors}) s union all
				select name, idx, competitor from ({counted_competitors}) c) x
			group by name, idx, competitor having count(*) <> 2"""
		)
	)
	if rows:
		differences.append({"counted_rows_out_of_step": rows})
	return differences


# ---------------------------------------------------------------- reading


def whole_months(from_date, to_date) -> tuple | None:
	"""(first month, last month) of the whole months from `from_date` to `to_date`, or None when none is."""
	from frappe.utils import add_months, get_first_day, get_last_day

	first = from_date if from_date.day == 1 else add_months(get_first_day(from_date), 1)
	last = (
		get_first_day(to_date) if get_last_day(to_date) == to_date else add_months(get_first_day(to_date), -1)
	)
	return (first, last) if first <= last else None


def win_loss_groups(filters) -> list[dict] | None:
	"""The Win/Loss report's (grouped, status) → deals, amount (the decimal sum as text, or None) of the deals
	closed in its dates as the session user reads them (a (grouped, status) may come more than once: the
	caller adds them up); None when the summary can't answer (a user `totals.read_scope` can't answer for).
	The whole months from the summary, the days of a partial month (and a range within one month) from the
	counted rows; the deals shared with a private user and not theirs by owner or assignee from the counted
	rows too, by name."""
	from frappe.utils import add_days, get_last_day

	from opportunity_suite.services import totals

	if not ready():
		return None
	scope = totals.read_scope()
	if scope is None:
		return None
	months = whole_months(filters.from_date, filters.to_date)
	days = [(filters.from_date, filters.to_date)]
	if months:
		first, last = months
		end = get_last_day(last)
		days = [(filters.from_date, add_days(first, -1))] if filters.from_date < first else []
		if filters.to_date > end:
			days.append((add_days(end, 1), filters.to_date))
	if not scope.private and not filters.get("assigned_to") and not filters.get("lead_source"):
		return _period_groups(filters, months, days)
	# a private user's team: the viewer keys they see (their counted rows and summary rows by index)
	keys = _visible_keys(scope) if scope.private and keyed() else None
	if months is None:
		rows = _counted_groups(filters, days, scope, shared=False, keys=keys)
		if keys is not None:
			rows += _counted_groups(filters, days, scope, shared=True, keys=keys)
		return rows
	rows = _summary_groups(filters, first, last, scope, keys)
	if days:
		rows += _counted_groups(filters, days, scope, shared=False, keys=keys)
	if scope.private:  # (with the keys, the days' shared deals too: those read above are the team's only)
		shared = [(first, end)] if keys is None else [(filters.from_date, filters.to_date)]
		rows += _counted_groups(filters, shared, scope, shared=True, keys=keys)
	return rows


def _visible_keys(scope) -> tuple:
	"""The viewer keys of the deals a private user's team owns or is assigned (visibility.team_condition)."""
	return tuple(stage_viewers.visible_keys(visibility.team_condition(scope.user, "k")))


def _keyed(alias: str, keys: tuple) -> str:
	"""SQL: the row `alias` is one of these keys' (values in `%(keys)s`)."""
	return f"{alias}.{VIEWER_KEY} in %(keys)s" if keys else "1 = 0"


def _period_groups(filters, months: tuple | None, days: list[tuple]) -> list[dict]:
	"""For a reader every deal counts for, unfiltered: the whole months and the days around them from
	PERIODS, the deltas not yet folded into it from theirs."""
	kind = {"Loss Reason": "loss_reason", "Competitor": "competitor", "Size Band": "size_band"}.get(
		filters.dimension, REGROUPED.get(frappe.scrub(filters.dimension))
	)
	values = {"kind": kind, "from_date": filters.from_date, "to_date": filters.to_date}
	spans = []
	if months:
		values["first"], values["last"] = months
		spans.append("(t.span = 'month' and t.period between %(first)s and %(last)s)")
	for i, (first, last) in enumerate(days):
		values[f"first{i}"], values[f"last{i}"] = first, last
		spans.append(f"(t.span = 'day' and t.period between %(first{i})s and %(last{i})s)")
	sums = (
		"sum(t.deals) as deals, cast(sum(t.base_amount) as char) as amount, sum(t.amount_rows) as amount_rows"
	)
	rows = frappe.db.sql(
		f"""select t.grouped, t.status, {sums} from `{PERIODS}` t
		where t.kind = %(kind)s and ({" or ".join(spans)}) group by t.grouped, t.status""",
		values,
		as_dict=True,
	)
	group = f"t.`{REGROUPED[kind]}`" if kind in REGROUPED else "t.grouped"
	rows += frappe.db.sql(
		f"""select {group} as grouped, t.status, {sums} from `{DELTAS}` t
		where t.kind = %(kind)s and t.closed_on between %(from_date)s and %(to_date)s
		group by {group}, t.status""",
		{**values, "kind": "size_band" if kind in REGROUPED else kind},
		as_dict=True,
	)
	for row in rows:
		row.deals = int(row.deals)
		if not row.amount_rows:
			row.amount = None  # SUM over no base amount, as the query's
	return rows


def _filter_conditions(filters, alias: str, values: dict) -> list[str]:
	conditions = []
	for field in ("assigned_to", "lead_source"):
		if filters.get(field):
			values[field] = filters.get(field)
			conditions.append(f"{alias}.{field} = %({field})s")
	return conditions


def _summary_groups(filters, first, last, scope, keys: tuple | None = None) -> list[dict]:
	"""The whole months from `first` to `last` (first days) from the summary and its waiting deltas (a
	private user's team: by their viewer `keys` when given, on the summary's index; the deltas, few and
	without the key, by the team condition)."""
	kind, group = {
		"Loss Reason": ("loss_reason", "t.grouped"),
		"Competitor": ("competitor", "t.grouped"),
		"Size Band": ("size_band", "t.grouped"),
		"Assigned To": ("size_band", "t.assigned_to"),
		"Lead Source": ("size_band", "t.lead_source"),
	}[filters.dimension]
	values = {"kind": kind, "first": first, "last": last}
	conditions = ["t.kind = %(kind)s", "t.closed_month between %(first)s and %(last)s"]
	conditions += _filter_conditions(filters, "t", values)
	summary = deltas = " and ".join(conditions)
	if scope.private:
		deltas += " and " + scope.team("t")
		if keys is None:
			summary = deltas
		else:
			values["keys"] = keys
			summary += " and " + _keyed("t", keys)
	select = (
		f"select {group} as grouped, t.status, sum(t.deals) as deals, "
		"cast(sum(t.base_amount) as char) as amount, "
		"sum(t.amount_rows) as amount_rows"
	)
	index = f" force index ({TOTALS_BY_VIEWER})" if scope.private and keys else ""
	rows = frappe.db.sql(
		f"{select} from `{TOTALS}` t{index} where {summary} group by {group}, t.status", values, as_dict=True
	)
	rows += frappe.db.sql(
		f"{select} from `{DELTAS}` t where {deltas} group by {group}, t.status", values, as_dict=True
	)
	for row in rows:
		row.deals = int(row.deals)
		if not row.amount_rows:
			row.amount = None  # SUM over no base amount, as the query's
	return rows


def _counted_groups(filters, days: list[tuple], scope, shared: bool, keys: tuple | None = None) -> list[dict]:
	"""The deals closed in any of `days` ((first, last) days) from the counted rows, as the report's own
	query counts them (a deal once per competitor row, once when it has none). A private user's: those of
	their team or shared with them; `shared`: only those shared with them and not their team's. With the
	team's viewer `keys`: their team's alone (by the keys' index), or (`shared`) the shared ones not theirs."""
	values = {}
	closed = []
	for i, (first, last) in enumerate(days):
		values[f"first{i}"], values[f"last{i}"] = first, last
		closed.append(f"r.closed_on between %(first{i})s and %(last{i})s")
	conditions = ["(" + " or ".join(closed) + ")", *_filter_conditions(filters, "r", values)]
	if scope.private:
		team = scope.team("r")
		share = visibility.shared_condition(DOCTYPE, scope.user, "`r`").replace("%", "%%")
		if keys is None:
			conditions.append(f"{share} and {scope.outside_team('r')}" if shared else f"({team} or {share})")
		else:
			values["keys"] = keys
			conditions.append(f"{share} and not ({_keyed('r', keys)})" if shared else _keyed("r", keys))
	joined = ""
	if filters.dimension == "Competitor":
		joined = f"left join `{COMPETITORS}` c on c.name = r.name"
		group = "c.competitor"
	elif filters.dimension == "Size Band":
		group = size_band_sql("r.base_amount")
	else:
		group = "r." + {"Loss Reason": "loss_reason", "Assigned To": "assigned_to"}.get(
			filters.dimension, "lead_source"
		)
	rows = frappe.db.sql(
		f"""select {group} as grouped, r.status, count(*) as deals, cast(sum(r.base_amount) as char) as amount
		from `{ROWS}` r {joined} where {" and ".join(conditions)} group by {group}, r.status""",
		values,
		as_dict=True,
	)
	for row in rows:
		row.deals = int(row.deals)
	return rows
