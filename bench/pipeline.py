"""Build a realistic pipeline of N opportunities on a site, in SQL (the desk-latency benchmark's data).

	env/bin/python bench/pipeline.py [--rows 1000000] [--remove]
	(OS_BENCH_SITE=<site>: a site of its own, not the test site: the tests recompute and count every deal)

What it makes, idempotently (a second run adds only what is missing; `--rows` larger than before appends):
- 50 Sales Users `pipeline.sales01@example.com` … `pipeline.sales50@…` and a Sales Manager
  `pipeline.manager@example.com`, all with the password PASSWORD; sales02–05 report to sales01 (a team
  lead: with private visibility sales01 sees five users' deals);
- 2,000 organizations "Pipeline Org 0001 Apex Summit Ltd" …;
- N opportunities `PIPE-0000001` … named like a CRM's ("Renewal 4242 – Apex Summit Ltd"), over the ten
  shipped stages, close dates over three years (two back, one ahead: deals closing in the past are mostly
  Won or Lost, those ahead Open), amounts, the stage's probability, the forecast, the stage's forecast
  category, owner = assignee = one of the 50 (Frappe's `_assign` too), creation/modified before the close;
- as the product has them: a ToDo per deal for its assignee (Open, Closed once the deal is), the stage
  history (the creation row, and a stage change for every deal past the first stage) and global search rows.

Every row is inserted straight into the tables (one INSERT … SELECT per table and block of 100,000 over
MariaDB's sequence table), so no controller runs; the values are the ones a save would store."""

import argparse
import time

from _site import connect

frappe = connect()

PREFIX = "PIPE"
PASSWORD = "Pipeline-Bench-7c3e!"
USERS = 50
ORGANIZATIONS = 2000
BLOCK = 100_000
KINDS = ("Renewal", "New Logo", "Upsell", "Expansion", "Pilot", "Migration", "Support Plan", "Cross-sell")
WORDS = "Apex Summit Vertex Orbit Zenith Harbor Pioneer Atlas Nova Prime Delta Omega".split()
SUFFIXES = ("Ltd", "GmbH", "Inc", "SA", "AG", "LLC")
SOURCES = ("Cold Call", "Existing Customer", "Partner", "Conference", "Web Site")


def user_id(i: int) -> str:
	return f"pipeline.sales{i:02d}@example.com"


MANAGER = "pipeline.manager@example.com"


def ensure_users():
	from frappe.utils.password import update_password

	for i in range(1, USERS + 1):
		_ensure_user(user_id(i), f"Seller {i:02d}", "Sales User")
	_ensure_user(MANAGER, "Pipeline Manager", "Sales Manager")
	for user in (*[user_id(i) for i in range(1, USERS + 1)], MANAGER):
		update_password(user, PASSWORD)
	if frappe.get_meta("User").has_field("reports_to"):
		for i in range(2, 6):
			frappe.db.set_value("User", user_id(i), "reports_to", user_id(1))
	frappe.db.commit()


def _ensure_user(email: str, first_name: str, role: str):
	if frappe.db.exists("User", email):
		return
	user = frappe.get_doc(
		{
			"doctype": "User",
			"email": email,
			"first_name": first_name,
			"send_welcome_email": 0,
			"user_type": "System User",
			"roles": [{"role": role}],
		}
	)
	user.flags.no_welcome_mail = True
	user.insert(ignore_permissions=True)


def organization_name(i: int) -> str:
	words = f"{WORDS[i % len(WORDS)]} {WORDS[(i // len(WORDS)) % len(WORDS)]}"
	return f"Pipeline Org {i:04d} {words} {SUFFIXES[i % len(SUFFIXES)]}"


def ensure_organizations():
	have = frappe.db.count("Organization", {"name": ("like", "Pipeline Org %")})
	if have >= ORGANIZATIONS:
		return
	now = frappe.utils.now()
	rows = [
		(organization_name(i), now, now, user_id(i % USERS + 1), organization_name(i), user_id(i % USERS + 1))
		for i in range(1, ORGANIZATIONS + 1)
	]
	# raw SQL: thousands of rows in one statement (INSERT IGNORE keeps the ones a first run made)
	frappe.db.sql(
		"insert ignore into `tabOrganization` (name, creation, modified, owner, modified_by, docstatus, "
		"organization_name, assigned_to) values "
		+ ", ".join(["(%s, %s, %s, %s, 'Administrator', 0, %s, %s)"] * len(rows)),
		[v for row in rows for v in row],
	)
	frappe.db.commit()


def _lookup_tables():
	"""Temporary tables the INSERT … SELECTs join on: stages by index (8 open in order, Won, Lost), users,
	organizations, kinds and sources."""
	stages = frappe.get_all(
		"Opportunity Stage",
		fields=["name", "default_probability", "stage_type", "forecast_category"],
		filters={"disabled": 0},
		order_by="sequence asc",
	)
	open_ = [s for s in stages if s.stage_type == "Open"]
	won = [s for s in stages if s.stage_type == "Won"][:1]
	lost = [s for s in stages if s.stage_type == "Lost"][:1]
	ordered = open_ + won + lost
	tables = {
		"pipeline_stage": [
			(i, s.name, s.default_probability or 0, s.stage_type, s.forecast_category or "")
			for i, s in enumerate(ordered)
		],
		"pipeline_user": [(i, user_id(i + 1)) for i in range(USERS)],
		"pipeline_org": [(i, organization_name(i + 1)) for i in range(ORGANIZATIONS)],
		"pipeline_kind": list(enumerate(KINDS)),
		"pipeline_source": list(enumerate(s for s in SOURCES if frappe.db.exists("Lead Source", s))),
		"pipeline_reason": list(enumerate(frappe.get_all("Lost Reason", pluck="name", order_by="name"))),
	}
	columns = {
		"pipeline_stage": "idx int primary key, name varchar(140), prob decimal(21,9), stage_type varchar(20), "
		"category varchar(40)",
		"pipeline_user": "idx int primary key, name varchar(140)",
		"pipeline_org": "idx int primary key, name varchar(140)",
		"pipeline_kind": "idx int primary key, name varchar(140)",
		"pipeline_source": "idx int primary key, name varchar(140)",
		"pipeline_reason": "idx int primary key, name varchar(140)",
	}
	for table, rows in tables.items():
		frappe.db.sql_ddl(f"drop temporary table if exists {table}")
		frappe.db.sql_ddl(f"create temporary table {table} ({columns[table]})")
		if rows:
			width = len(rows[0])
			frappe.db.sql(
				f"insert into {table} values "
				+ ", ".join(["(" + ", ".join(["%s"] * width) + ")"] * len(rows)),
				[v for row in rows for v in row],
			)
	return len(open_), len(tables["pipeline_source"]), len(tables["pipeline_reason"])


def _deal_source(first: int, last: int, open_stages: int, sources: int, reasons: int) -> str:
	"""A derived table of one row per deal number with everything drawn from it: the close date, stage
	index, user, organization, kind (CRC32 of the number: stable from run to run)."""
	return f"""(select seq,
		date_add(curdate(), interval cast(crc32(concat('d', seq)) %% 1095 as signed) - 730 day) as close_date,
		crc32(concat('s', seq)) %% 100 as h,
		crc32(concat('u', seq)) %% {USERS} as u,
		crc32(concat('o', seq)) %% {ORGANIZATIONS} as o,
		crc32(concat('k', seq)) %% {len(KINDS)} as k,
		crc32(concat('l', seq)) %% {max(sources, 1)} as src,
		(crc32(concat('a', seq)) %% 900 + 1) * 250 + (seq %% 100) / 100 as amount,
		crc32(concat('c', seq)) %% 150 + 20 as age
		from seq_{first}_to_{last}) s
	join pipeline_stage st on st.idx = if(s.close_date < curdate(),
		if(s.h < 40, {open_stages}, if(s.h < 85, {open_stages + 1}, s.h %% {open_stages})), s.h %% {open_stages})
	join pipeline_user pu on pu.idx = s.u
	join pipeline_org po on po.idx = s.o
	join pipeline_kind pk on pk.idx = s.k
	left join pipeline_source ps on ps.idx = s.src
	left join pipeline_reason pr on pr.idx = s.seq %% {max(reasons, 1)}"""


def deal_name(column: str = "seq") -> str:
	return f"concat('{PREFIX}-', lpad({column}, 7, '0'))"


def insert_block(first: int, last: int, lookups: tuple[int, int, int], currency: str):
	source = _deal_source(first, last, *lookups)
	first_stage = frappe.db.sql("select name, prob from pipeline_stage where idx = 0")[0]
	first_stage = {"first": first_stage[0], "first_prob": first_stage[1], "currency": currency}
	# made `age` days before its close (a deal closing ahead was made that long before today)
	created = (
		"timestamp(least(s.close_date, curdate()) - interval s.age day) + interval (s.seq %% 86400) second"
	)
	modified = f"least({created} + interval (s.age div 2) day, now())"
	stage_since = f"least({created} + interval (s.age div 3) day, now())"
	has_category = frappe.get_meta("Opportunity").has_field("forecast_category")
	category_col = ", forecast_category" if has_category else ""
	category_val = ", st.category" if has_category else ""
	frappe.db.sql(
		f"""insert into `tabOpportunity` (name, creation, modified, owner, modified_by, docstatus, idx,
			opportunity_name, organization, amount, currency, exchange_rate, base_amount, probability,
			forecast_amount, base_forecast_amount, sales_stage, status, expected_close_date, closed_on,
			assigned_to, _assign, opportunity_type, lead_source, next_step, stage_since, loss_reason,
			is_stale{category_col})
		select {deal_name("s.seq")}, {created}, {modified}, pu.name, pu.name, 0, 0,
			concat(pk.name, ' ', s.seq, ' – ', po.name), po.name, s.amount, %(currency)s, 1, s.amount, st.prob,
			round(s.amount * st.prob / 100, 2), round(s.amount * st.prob / 100, 2), st.name,
			st.stage_type, s.close_date, if(st.stage_type = 'Open', null, s.close_date), pu.name,
			concat('["', pu.name, '"]'), if(s.seq %% 3 = 0, 'Existing Business', 'New Business'), ps.name,
			if(st.stage_type = 'Open', elt(1 + s.seq %% 4, 'Call back', 'Send proposal', 'Demo scheduled', ''),
				''), {stage_since}, if(st.stage_type = 'Lost', pr.name, null),
			st.stage_type = 'Open' and s.close_date < curdate(){category_val}
		from {source}""",
		{"currency": currency},
	)
	from opportunity_suite.services import totals  # what a save keeps in step, for the rows SQL wrote

	totals.refresh_range(f"{PREFIX}-{first - 1:07d}", f"{PREFIX}-{last:07d}")
	# the assignee's to-do, as Frappe's Assign To makes it (services/assignment.py keeps them in step)
	frappe.db.sql(
		f"""insert into `tabToDo` (name, creation, modified, owner, modified_by, docstatus, idx, status,
			priority, date, allocated_to, description, reference_type, reference_name, assigned_by)
		select {deal_name("s.seq")}, {created}, {modified}, pu.name, pu.name, 0, 0,
			if(st.stage_type = 'Open', 'Open', 'Closed'), 'Medium', s.close_date, pu.name,
			concat(pk.name, ' ', s.seq, ' – ', po.name), 'Opportunity', {deal_name("s.seq")}, pu.name
		from {source}""",
		{"currency": currency},
	)
	# the stage history: the creation row, and the last stage change for every deal past the first stage
	history = """insert into `tabOpportunity Stage History` (name, creation, modified, owner, modified_by,
			docstatus, idx, opportunity, changed_on, changed_by, via, assigned_to, from_stage, to_stage,
			stage_changed, days_in_previous_stage, currency, old_amount, new_amount, old_probability,
			new_probability, old_expected_close_date, new_expected_close_date)"""
	frappe.db.sql(
		f"""{history}
		select concat({deal_name("s.seq")}, '-0'), {created}, {created}, pu.name, pu.name, 0, 0,
			{deal_name("s.seq")}, {created}, pu.name, 'Desk', pu.name, null, %(first)s, 1, 0, %(currency)s,
			0, s.amount, 0, %(first_prob)s, null, s.close_date
		from {source}""",
		first_stage,
	)
	frappe.db.sql(
		f"""{history}
		select concat({deal_name("s.seq")}, '-1'), {stage_since}, {stage_since}, pu.name, pu.name, 0, 0,
			{deal_name("s.seq")}, {stage_since}, pu.name, 'Desk', pu.name, %(first)s, st.name, 1,
			s.age div 3, %(currency)s, s.amount, s.amount, %(first_prob)s, st.prob, s.close_date, s.close_date
		from {source} where st.idx > 0""",
		first_stage,
	)
	from opportunity_suite.services import stage_viewers  # who reads the history just written

	stage_viewers.refresh_range(f"{PREFIX}-{first - 1:07d}", f"{PREFIX}-{last:07d}")
	frappe.db.sql(
		f"""insert into `__global_search` (doctype, name, title, content, published, route)
		select 'Opportunity', {deal_name("s.seq")}, concat(pk.name, ' ', s.seq, ' – ', po.name),
			concat('Opportunity Name : ', pk.name, ' ', s.seq, ' – ', po.name, ' ||| Organization : ', po.name,
				' ||| Sales Stage : ', st.name, ' ||| Status : ', st.stage_type), 0, ''
		from {source}""",
		{"currency": currency},
	)
	frappe.db.commit()


def existing_rows() -> int:
	found = frappe.db.sql("select max(name) from `tabOpportunity` where name like %s", (PREFIX + "-%",))[0][0]
	return int(found.split("-")[1]) if found else 0


def build(rows: int):
	from opportunity_suite.services.forecast import get_settings

	started = time.perf_counter()
	ensure_users()
	ensure_organizations()
	have = existing_rows()
	if have >= rows:
		print(f"{PREFIX}: {have:,} opportunities already there (asked for {rows:,})")
		return
	lookups = _lookup_tables()
	currency = get_settings().default_currency
	for first in range(have + 1, rows + 1, BLOCK):
		last = min(first + BLOCK - 1, rows)
		insert_block(first, last, lookups, currency)
		print(f"  {last:,} / {rows:,} ({time.perf_counter() - started:.0f} s)", flush=True)
	frappe.db.sql("analyze table `tabOpportunity`, `tabToDo`, `tabOpportunity Stage History`")
	from opportunity_suite.services.search import ensure_search_index

	ensure_search_index()  # the infix search's windows for the rows SQL wrote (a save writes its own)
	print(f"{PREFIX}: {rows:,} opportunities in {time.perf_counter() - started:.0f} s")


def remove():
	like = PREFIX + "-%"
	for table, column in (
		("tabOpportunity Stage History", "opportunity"),
		("tabToDo", "reference_name"),
		("__global_search", "name"),
		("__opportunity_search", "name"),
		("tabOpportunity", "name"),
	):
		frappe.db.sql(f"delete from `{table}` where `{column}` like %s", (like,))
		frappe.db.commit()
	frappe.db.sql("delete from `tabOrganization` where name like 'Pipeline Org %'")
	frappe.db.commit()
	from opportunity_suite.services import totals

	totals.rebuild()  # the pre-aggregated totals without the rows deleted above


if __name__ == "__main__":
	parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
	parser.add_argument("--rows", type=int, default=1_000_000)
	parser.add_argument("--remove", action="store_true", help="remove the pipeline's rows (users stay)")
	args = parser.parse_args()
	remove() if args.remove else build(args.rows)
	frappe.destroy()
