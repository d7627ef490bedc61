"""The pre-aggregated totals' tables and the SQL shapes both sides share: what a deal is counted for.

What the totals are and who keeps them: the package's docstring (services/totals/__init__.py)."""

import frappe

DOCTYPE = "Opportunity"


ROWS = "__opportunity_totals_rows"


TOTALS = "__opportunity_totals"


COARSE = "__opportunity_totals_coarse"  # the same without owner, assignees and month: ~50 rows


DELTAS = "__opportunity_totals_delta"


FOLD_JOB = "opportunity_suite:fold_totals"


REPORT_INDEX = "report_order"


STAGE_INDEX = (
	"status_stage_owner"  # a status's groups of one stage: a private user's other owners (Time in Stage)
)


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
	),  # the sidebar's Assigned To: who its to-dos are allocated to (todo_assignees)
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
		f"index {REPORT_INDEX} (status, close_month, sales_stage, assigned_to, forecast_category), "
		f"index {STAGE_INDEX} (status, sales_stage, owner)",
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
	if not frappe.db.sql(f"show index from `{TOTALS}` where Key_name = %s", STAGE_INDEX):  # made before it
		frappe.db.sql_ddl(f"alter table `{TOTALS}` add index {STAGE_INDEX} (status, sales_stage, owner)")
	return made


def dimension_of(name: str, alias: str, todos: str | None = None) -> str:
	"""The dimension `name` of an Opportunity row `alias` (`todos`: the SQL of its to-dos' assignees, when
	read beforehand)."""
	if name == "close_month":  # the first day of the expected close's month
		return f"{alias}.expected_close_date - interval (dayofmonth({alias}.expected_close_date) - 1) day"
	if name == "todo_assignees":
		return todos or todo_assignees(alias)
	return f"{alias}.`{name}`"


def todo_assignees(alias: str) -> str:
	"""The users the to-dos of opportunity `alias` are allocated to, one entry per to-do that isn't
	Cancelled (Open and Closed: what the sidebar's Assigned To counts; `_assign` holds the Open ones only),
	as a sorted JSON array; NULL when it has none."""
	return (
		"(select json_arrayagg(td.allocated_to order by td.allocated_to) from `tabToDo` td "
		f"where td.reference_type = '{DOCTYPE}' and td.reference_name = {alias}.name "
		"and td.status <> 'Cancelled' and td.allocated_to <> '')"
	)


def key(alias: str, names: tuple[str, ...] = DIMENSION_NAMES) -> str:
	"""A hash of a row's dimensions, byte for byte (NULL and '' apart, case apart)."""
	parts = ", ".join(f"ifnull(concat('=', {alias}.`{name}`), '-')" for name in names)
	return f"sha1(concat_ws(char(0), {parts}))"


def opportunity_columns(alias: str = "o", todos: str | None = None) -> str:
	return ", ".join(f"{dimension_of(name, alias, todos)} as `{name}`" for name in DIMENSION_NAMES)


def contribution(alias: str, sign: str, from_opportunity: bool, todos: str | None = None) -> str:
	"""The dimensions and signed measures one row adds (`sign` '' or '-')."""
	dims = (
		opportunity_columns(alias, todos)
		if from_opportunity
		else ", ".join(f"{alias}.`{n}`" for n in DIMENSION_NAMES)
	)
	return (
		f"{dims}, {sign}1 as opportunities, {sign}({alias}.base_amount is not null) as amount_rows, "
		f"{sign}ifnull({alias}.base_amount, 0) as base_amount, "
		f"{sign}ifnull({alias}.base_forecast_amount, 0) as base_forecast_amount"
	)


def differs(o: str = "o", r: str = "r", todos: str | None = None) -> str:
	"""The stored deal `o` is not what its counted row `r` says."""
	same = [f"{dimension_of(n, o, todos)} <=> {r}.`{n}`" for n in DIMENSION_NAMES]
	same += [f"{o}.{a} <=> {r}.{a}" for a in AMOUNTS]
	return "not (" + " and ".join(same) + ")"


def grouped(select: str) -> str:
	"""Sum the contributions of `select` per dimension combination, leaving out those that cancel."""
	dims = ", ".join(f"min(c.`{n}`)" for n in DIMENSION_NAMES)
	sums = ", ".join(f"sum(c.{m})" for m in MEASURES)
	return (
		f"select {dims}, {sums} from ({select}) c group by {key('c')} "
		"having sum(c.opportunities) <> 0 or sum(c.amount_rows) <> 0 "
		"or sum(c.base_amount) <> 0 or sum(c.base_forecast_amount) <> 0"
	)


def ready() -> bool:
	flags = frappe.local.flags
	if flags.get("opportunity_totals_ready") is None:
		flags.opportunity_totals_ready = bool(frappe.db.sql("show tables like %s", (DELTAS,)))
	return flags.opportunity_totals_ready
