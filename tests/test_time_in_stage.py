"""The Time in Stage report, checked by hand on a small pipeline of one assignee's deals."""

import datetime

import frappe
import pytest
from frappe.desk.query_report import run as run_report
from frappe.utils import add_days, getdate, today
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import make_opportunity, make_user
from tests.test_stage_history import entered_days_ago


def _move(opp, stage: str, after_days: float, **values):
	"""`opp` sat `after_days` in its stage, then moves to `stage`."""
	entered_days_ago(opp.name, after_days)
	opp.reload()
	opp.update({"sales_stage": stage, **values})
	opp.save()
	return opp


@pytest.fixture
def pipeline():
	seller = make_user("Sales User")
	deal = lambda: make_opportunity(amount=100, assigned_to=seller)  # noqa: E731
	a, b, c, d, e, f = (deal() for _ in range(6))
	# Prospecting stays: 2, 4, 6, 10 days; three move on (A, B to Qualification, D to Negotiation), C is lost
	_move(a, "Qualification", 2)
	_move(b, "Qualification", 4)
	_move(c, "Closed Lost", 6, lost_reason="price")
	_move(d, "Negotiation/Review", 10)
	# Qualification: A sat 1 day and went back (not moving on); B sits there, 5 days so far
	_move(a, "Prospecting", 1)
	entered_days_ago(b.name, 5)
	# open in Prospecting now: A (just back), E 12 days (> 2 × median 5: flagged), F 3 days
	entered_days_ago(e.name, 12)
	entered_days_ago(f.name, 3)
	return frappe._dict(seller=seller, a=a, b=b, e=e)


def _report(user: str, seller: str, **filters) -> dict:
	frappe.set_user(user)
	result = run_report("Time in Stage", filters={"assigned_to": seller, **filters})
	stages = {r["stage"]: r for r in result["result"] if r.get("stage")}
	flagged = [r["opportunity"] for r in result["result"] if r.get("opportunity")]
	return frappe._dict(stages=stages, flagged=flagged, chart=result["chart"])


def test_median_p75_conversion_and_flags_by_hand(pipeline):
	report = _report("Administrator", pipeline.seller)
	prospecting = report.stages["Prospecting"]
	assert prospecting["stays"] == 4
	assert prospecting["median_days"] == pytest.approx(5, abs=0.01)  # (4 + 6) / 2
	assert prospecting["p75_days"] == pytest.approx(7, abs=0.01)  # 6 + 0.25 × (10 − 6)
	assert (prospecting["moved_on"], prospecting["conversion"]) == (3, 75)
	assert (prospecting["open_now"], prospecting["flagged"]) == (3, 1)
	qualification = report.stages["Qualification"]
	assert (qualification["stays"], qualification["moved_on"], qualification["conversion"]) == (1, 0, 0)
	assert qualification["median_days"] == pytest.approx(1, abs=0.01)
	assert (qualification["open_now"], qualification["flagged"]) == (1, 1)  # B: 5 days > 2 × 1
	assert sorted(report.flagged) == sorted([pipeline.e.name, pipeline.b.name])
	needs = report.stages["Needs Analysis"]
	assert (needs["stays"], needs["median_days"], needs["open_now"]) == (0, None, 0)
	labels = report.chart["data"]["labels"]
	medians = report.chart["data"]["datasets"][0]["values"]
	assert medians[labels.index("Prospecting")] == pytest.approx(5, abs=0.01)


def test_a_sales_user_sees_only_what_the_visibility_lets_them(pipeline):
	from frappe.desk.reportview import get_match_cond

	from tests.factories import set_forecast_settings

	assert _report(pipeline.seller, pipeline.seller).stages["Prospecting"]["stays"] == 4
	frappe.set_user("Administrator")
	set_forecast_settings(visibility="Owner, Assignees and Their Managers")
	frappe.local.opportunity_suite_visibility = None
	other, manager = make_user("Sales User"), make_user("Sales Manager")
	report = _report(other, pipeline.seller)
	assert report.stages["Prospecting"]["stays"] == 0 and report.flagged == []
	assert report.stages["Prospecting"]["open_now"] == 0
	# the seller still reads their own deals' history (the straightforward query over their rows)
	report = _report(pipeline.seller, pipeline.seller)
	assert get_match_cond("Opportunity Stage History")
	assert (report.stages["Prospecting"]["stays"], report.stages["Prospecting"]["median_days"]) == (4, 5)
	assert sorted(report.flagged) == sorted([pipeline.e.name, pipeline.b.name])
	# a Sales Manager reads everything: the summary's fast path, the same numbers
	report = _report(manager, pipeline.seller)
	assert not get_match_cond("Opportunity Stage History")
	assert (report.stages["Prospecting"]["stays"], report.stages["Prospecting"]["p75_days"]) == (4, 7)


def test_the_stage_filter_shows_that_stage_alone(pipeline):
	report = _report("Administrator", pipeline.seller, stage="Qualification")
	assert list(report.stages) == ["Qualification"]
	assert (report.stages["Qualification"]["stays"], report.flagged) == (1, [pipeline.b.name])
	assert report.chart["data"]["labels"] == ["Qualification"]


def test_the_flagged_count_counts_past_the_listed_deals(pipeline):
	"""More deals over 2× the median than the report lists: the count is all of them."""
	from opportunity_suite.services import totals
	from opportunity_suite.services.time_in_stage import LISTED_PER_STAGE

	extra = LISTED_PER_STAGE + 5
	# raw SQL: many open deals at once, in the test's transaction (the controller isn't what's tested)
	frappe.db.sql(
		f"""INSERT INTO `tabOpportunity` (name, creation, modified, owner, modified_by, docstatus,
			opportunity_name, amount, currency, exchange_rate, probability, sales_stage, status,
			expected_close_date, assigned_to, stage_since)
		SELECT CONCAT('TISFLAG-', seq), NOW(), NOW(), 'Administrator', 'Administrator', 0, CONCAT('Flag ', seq),
			1, 'USD', 1, 10, 'Prospecting', 'Open', CURDATE(), %(seller)s, NOW() - INTERVAL 30 DAY
		FROM seq_1_to_{extra}""",
		{"seller": pipeline.seller},
	)
	totals.refresh_like("TISFLAG-%")  # what code writing deals with raw SQL does
	prospecting = _report("Administrator", pipeline.seller).stages["Prospecting"]
	assert (prospecting["open_now"], prospecting["flagged"]) == (3 + extra, 1 + extra)


def test_the_fast_path_equals_the_straightforward_computation_on_a_random_pipeline():
	"""The summary kept in step by saves and deletions, and the percentiles read at their ranks, give the
	numbers PERCENTILE_CONT gives over the rows; the summary recounted from the history is the same."""
	import random

	from opportunity_suite.services import stage_stays
	from opportunity_suite.services.time_in_stage import fast_statistics, straightforward_statistics

	stage_stays.rebuild()  # from here on, only the write paths keep it in step
	rng = random.Random(16)
	sellers = [make_user("Sales User") for _ in range(2)]
	stages = ["Prospecting", "Qualification", "Needs Analysis", "Value Proposition", "Closed Won"]
	deals = [make_opportunity(amount=100, assigned_to=rng.choice(sellers)) for _ in range(12)]
	for _step in range(30):
		deal = rng.choice(deals)
		stage = rng.choice([s for s in stages if s != deal.sales_stage])
		_move(deal, stage, rng.choice([rng.randint(0, 9), round(rng.uniform(0, 20), 2)]))
	frappe.delete_doc("Opportunity", deals[0].name)  # its stays leave the summary

	def compare():
		for assigned_to in (None, *sellers):
			filters = frappe._dict(from_date=today(), to_date=today(), assigned_to=assigned_to)
			fast, straight = fast_statistics(filters), straightforward_statistics(filters)
			assert sorted(fast) == sorted(straight)
			for stage, row in straight.items():
				assert (fast[stage].stays, fast[stage].moved_on) == (row.stays, row.moved_on), stage
				assert fast[stage].median_days == pytest.approx(row.median_days, abs=0.01), stage
				assert fast[stage].p75_days == pytest.approx(row.p75_days, abs=0.01), stage
		return stage_stays.period_counts(today(), today())

	kept = compare()
	stage_stays.rebuild()
	assert sorted(compare()) == sorted(kept)


# ---------------------------------------------------------------- the summary's months and ragged ends


def test_a_period_splits_into_whole_months_and_ragged_ends():
	from opportunity_suite.services.stage_stays import split_period

	d = getdate
	assert split_period("2026-01-15", "2026-04-10") == (
		(d("2026-02-01"), d("2026-03-01")),
		[(d("2026-01-15"), d("2026-01-31")), (d("2026-04-01"), d("2026-04-10"))],
	)
	assert split_period("2026-02-01", "2026-02-28") == ((d("2026-02-01"), d("2026-02-01")), [])
	assert split_period("2024-02-01", "2024-02-28") == (None, [(d("2024-02-01"), d("2024-02-28"))])
	assert split_period("2026-12-01", "2027-01-31") == ((d("2026-12-01"), d("2027-01-01")), [])
	assert split_period("2026-03-05", "2026-03-05") == (None, [(d("2026-03-05"), d("2026-03-05"))])
	assert split_period("2026-03-06", "2026-03-05") == (None, [])


WINDOW_START = datetime.datetime(2001, 1, 20)  # far from any other test's history: 100 days over 4 month ends
STAGES = ["Prospecting", "Qualification", "Needs Analysis", "Closed Won", "Closed Lost"]
_stay = st.tuples(
	st.integers(0, 5),  # the deal
	st.sampled_from(STAGES[:3]),  # the stage left
	st.sampled_from(STAGES),  # the stage entered
	st.integers(0, 100),  # the day it left, from WINDOW_START
	st.integers(0, 86399),  # the second of that day
	st.one_of(st.just(0.0), st.integers(0, 40).map(float), st.integers(0, 4000).map(lambda n: n / 100)),
	st.integers(0, 2),  # no assignee, or one of two
)


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(
	stays=st.lists(_stay, min_size=1, max_size=40),
	deleted=st.sets(st.integers(0, 5), max_size=2),
	periods=st.lists(st.tuples(st.integers(-3, 103), st.integers(0, 70)), min_size=1, max_size=4),
)
def test_months_and_ragged_ends_equal_the_straightforward_computation(sellers, stays, deleted, periods):
	"""History written and deleted through the two functions that keep the summary, over month ends (same-day
	stays, stays of 0 days, ties): the fast path's numbers for any period, with and without an assignee,
	are PERCENTILE_CONT's over the rows."""
	from opportunity_suite.services import stage_stays
	from opportunity_suite.services.history import delete_history, history_row, insert_history
	from opportunity_suite.services.time_in_stage import fast_statistics, straightforward_statistics

	frappe.db.savepoint("stays")
	try:
		stage_stays.rebuild()
		token = frappe.generate_hash(length=6)
		rows = []
		for deal, left, entered, day, second, days, who in stays:
			when = WINDOW_START + datetime.timedelta(days=day, seconds=second)
			assignee = (None, *sellers)[who]
			before = {"sales_stage": left, "stage_since": when - datetime.timedelta(days=days)}
			after = {"name": f"TISHYP-{token}-{deal}", "sales_stage": entered, "assigned_to": assignee}
			if left != entered:
				rows.append(history_row(before, after, when, "Administrator"))
		insert_history(rows)
		delete_history([f"TISHYP-{token}-{deal}" for deal in deleted])
		for offset, length in periods:
			start = add_days(WINDOW_START.date(), offset)
			for assigned_to in (None, *sellers):
				filters = frappe._dict(
					from_date=start, to_date=add_days(start, length), assigned_to=assigned_to
				)
				fast, straight = fast_statistics(filters), straightforward_statistics(filters)
				assert sorted(fast) == sorted(straight), filters
				for stage, row in straight.items():
					assert (fast[stage].stays, fast[stage].moved_on) == (row.stays, row.moved_on), filters
					assert fast[stage].median_days == pytest.approx(row.median_days, abs=0.005), filters
					assert fast[stage].p75_days == pytest.approx(row.p75_days, abs=0.005), filters
	finally:
		frappe.db.rollback(save_point="stays")


@pytest.fixture
def sellers():
	return [make_user("Sales User") for _ in range(2)]


# ---------------------------------------------------------------- private visibility

PRIVATE_START = datetime.datetime(2002, 1, 25)  # far from any other test's history, over two month ends


@pytest.fixture
def private_pipeline():
	"""Private visibility; four deals whose history was assigned to others than who holds them now (a
	reassignment across a month end), one seen through `_assign` alone, one shared, one history row shared
	on its own, stays of no deal; users holding one role each (and a team lead over seller1)."""
	import random

	from opportunity_suite.services import totals
	from opportunity_suite.services.history import history_row, insert_history
	from tests.factories import set_forecast_settings

	users = frappe._dict(
		seller1=make_user("Sales User"),
		seller2=make_user("Sales User"),
		lead=make_user("Sales User"),
		outsider=make_user("Sales User"),
		manager=make_user("Sales Manager"),
	)
	frappe.db.set_value("User", users.seller1, "reports_to", users.lead)
	set_forecast_settings(visibility="Owner, Assignees and Their Managers")
	frappe.local.opportunity_suite_visibility = None
	deals = frappe._dict(
		a=make_opportunity(amount=1, assigned_to=users.seller1).name,  # reassigned to seller1 in February
		b=make_opportunity(amount=1, assigned_to=users.seller2).name,  # seller1's until February
		c=make_opportunity(amount=1).name,  # seller2 among its Frappe assignees only
		d=make_opportunity(amount=1, assigned_to=users.seller2).name,  # shared with the outsider
	)
	frappe.db.set_value("Opportunity", deals.c, "_assign", frappe.as_json([users.seller2]))
	totals.refresh([deals.c])  # what code writing a deal past its controller does
	frappe.share.add("Opportunity", deals.d, users.outsider, read=1)
	rng = random.Random(6)
	stages = ["Prospecting", "Qualification", "Needs Analysis", "Closed Won", "Closed Lost"]
	rows = []
	for deal in (*deals.values(), None):
		for _ in range(12):
			when = PRIVATE_START + datetime.timedelta(days=rng.randint(0, 40), seconds=rng.randint(0, 86399))
			february = when >= datetime.datetime(2002, 2, 1)
			at_the_time = {
				deals.a: users.seller1 if february else users.seller2,
				deals.b: users.seller2 if february else users.seller1,
			}.get(deal)
			left = rng.choice(stages[:3])
			days = rng.choice([0.0, float(rng.randint(0, 9)), rng.randint(0, 2000) / 100])
			before = {"sales_stage": left, "stage_since": when - datetime.timedelta(days=days)}
			entered = rng.choice([s for s in stages if s != left])
			after = {"name": deal, "sales_stage": entered, "assigned_to": at_the_time}
			rows.append(history_row(before, after, when, "Administrator"))
	insert_history(rows)
	shared_row = next(r["name"] for r in rows if r["opportunity"] == deals.b)
	frappe.share.add("Opportunity Stage History", shared_row, users.outsider, read=1)
	return frappe._dict(users=users, deals=deals, rows=rows, shared_row=shared_row)


PRIVATE_PERIODS = [("2002-01-25", "2002-03-06"), ("2002-01-31", "2002-02-01"), ("2002-02-01", "2002-02-28")]


def _assert_visible_equals_straightforward(p, sees: dict | None = None):
	"""Each of `p`'s Sales Users under private visibility gets from the visible path the numbers of Frappe's
	own query over the rows they may read, for periods over month ends, the assignee and stage filters
	(and, given `sees`, user → the deals they see, as many stays as the rows of those deals in the period:
	the denied get none of the others' stays)."""
	from opportunity_suite.services import stage_viewers, time_in_stage
	from opportunity_suite.services.time_in_stage import straightforward_statistics, visible_statistics

	users = p.users
	assert stage_viewers.out_of_step([d for d in p.deals.values()]) == 0
	try:
		for user in (users.seller1, users.seller2, users.lead, users.outsider):
			frappe.set_user(user)
			frappe.local.opportunity_suite_visibility = None
			assert time_in_stage._reader() == time_in_stage.VISIBLE, user
			for low, high in PRIVATE_PERIODS:
				for extra in ({}, {"assigned_to": users.seller1}, {"stage": "Qualification"}):
					filters = frappe._dict(from_date=low, to_date=high, **extra)
					fast, straight = visible_statistics(filters), straightforward_statistics(filters)
					assert sorted(fast) == sorted(straight), (user, filters)
					for stage, row in straight.items():
						got = fast[stage]
						assert (got.stays, got.moved_on) == (row.stays, row.moved_on), (user, filters, stage)
						assert got.median_days == pytest.approx(row.median_days, abs=0.005), (user, filters)
						assert got.p75_days == pytest.approx(row.p75_days, abs=0.005), (user, filters)
					if sees is None:
						continue
					wanted = [
						r
						for r in p.rows
						if (
							r["opportunity"] in sees[user]
							or (r["name"] == p.shared_row and user == users.outsider)
						)
						and getdate(low) <= getdate(r["changed_on"]) <= getdate(high)
						and (not extra.get("assigned_to") or r["assigned_to"] == extra["assigned_to"])
						and (not extra.get("stage") or r["from_stage"] == extra["stage"])
					]
					assert sum(row.stays for row in fast.values()) == len(wanted), (user, filters)
	finally:
		frappe.set_user("Administrator")


def test_a_private_reader_gets_the_straightforward_numbers_of_what_they_see(private_pipeline):
	"""Their own deals, their team's, `_assign` alone, a shared deal, a shared row, rows of no deal; a Sales
	Manager sees every deal (the summary's path)."""
	from opportunity_suite.services import time_in_stage

	p = private_pipeline
	users, deals = p.users, p.deals
	_assert_visible_equals_straightforward(
		p,
		{
			users.seller1: {deals.a, None},
			users.lead: {deals.a, None},  # seller1 reports to them
			users.seller2: {deals.b, deals.c, deals.d, None},
			users.outsider: {deals.d, None},  # and the one shared row of B
		},
	)
	frappe.set_user(users.manager)
	frappe.local.opportunity_suite_visibility = None
	try:
		assert time_in_stage._reader() == time_in_stage.ALL
	finally:
		frappe.set_user("Administrator")


def test_a_private_reader_follows_reassignments_assignments_and_deletes(private_pipeline):
	"""Who reads a deal's history follows the deal as it is now: reassigned by a save, assigned through
	Frappe's Assign To (a ToDo rewrites `_assign`, the app its Assigned To), unassigned, deleted, a share
	taken back, a new member of a team; each time every user gets the straightforward numbers."""
	from frappe.desk.form import assign_to

	from opportunity_suite.api import assignment

	p = private_pipeline
	users, deals = p.users, p.deals
	deal = frappe.get_doc("Opportunity", deals.b)  # seller2's: now the outsider's
	deal.assigned_to = users.outsider
	deal.save()
	_assert_visible_equals_straightforward(
		p,
		{
			users.seller1: {deals.a, None},
			users.lead: {deals.a, None},
			users.seller2: {deals.c, deals.d, None},
			users.outsider: {deals.b, deals.d, None},
		},
	)
	# C was seller2's through `_assign` alone: assigned to seller1 through a ToDo, `_assign` is Frappe's again
	assign_to.add({"assign_to": [users.seller1], "doctype": "Opportunity", "name": deals.c})
	_assert_visible_equals_straightforward(
		p,
		{
			users.seller1: {deals.a, deals.c, None},
			users.lead: {deals.a, deals.c, None},
			users.seller2: {deals.d, None},
			users.outsider: {deals.b, deals.d, None},
		},
	)
	assignment.remove("Opportunity", deals.c, users.seller1)  # the desk's (Frappe's, with Assigned To kept)
	frappe.delete_doc("Opportunity", deals.d, force=True)  # its rows go; the outsider's share with it
	frappe.db.set_value("User", users.seller2, "reports_to", users.lead)
	_assert_visible_equals_straightforward(p)
	frappe.set_user(users.outsider)
	frappe.local.opportunity_suite_visibility = None
	try:
		from opportunity_suite.services.time_in_stage import visible_statistics

		period = frappe._dict(from_date="2002-01-01", to_date="2002-03-31")
		stays = sum(row.stays for row in visible_statistics(period).values())
	finally:
		frappe.set_user("Administrator")
	mine = [r for r in p.rows if r["opportunity"] in (deals.b, None) or r["name"] == p.shared_row]
	assert stays == len({r["name"] for r in mine})


def test_the_viewer_keys_follow_every_write_of_a_deal():
	"""Each history row's key is its deal's as stored after a save, an assignment, a write past the
	controller followed by the totals' refresh, a rebuild; rows of no deal have none."""
	from frappe.desk.form import assign_to

	from opportunity_suite.services import stage_viewers, totals

	seller, other = make_user("Sales User"), make_user("Sales User")
	deal = make_opportunity(amount=1, assigned_to=seller)
	_move(deal, "Qualification", 2)
	assert stage_viewers.out_of_step([deal.name]) == 0
	assign_to.add({"assign_to": [other], "doctype": "Opportunity", "name": deal.name})
	assert stage_viewers.out_of_step([deal.name]) == 0
	frappe.db.set_value("Opportunity", deal.name, "_assign", frappe.as_json([seller, other]))
	rows = frappe.db.count("Opportunity Stage History", {"opportunity": deal.name})
	assert stage_viewers.out_of_step([deal.name]) == rows  # until the write is refreshed
	totals.refresh([deal.name])
	assert stage_viewers.out_of_step([deal.name]) == 0
	frappe.db.sql(
		"update `tabOpportunity Stage History` set viewer_key = 'stale' where opportunity = %s", (deal.name,)
	)
	stage_viewers.rebuild()
	assert stage_viewers.out_of_step([deal.name]) == 0


_PEOPLE = st.one_of(
	st.none(), st.text(max_size=40), st.sampled_from(["", " ", "a ", "é", "李", "😀", "x\x1fy"])
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(owner=_PEOPLE, assigned_to=_PEOPLE, assign=_PEOPLE)
def test_a_key_worked_out_in_python_is_the_databases(owner, assigned_to, assign):
	"""The key a writer gives the rows it inserts is the one the refresh would give them: KEY_SQL on the
	same values, for any text (accents, CJK, emoji, trailing spaces, NULL against empty)."""
	from opportunity_suite.services import stage_viewers

	(sql,) = frappe.db.sql(
		f"select {stage_viewers.KEY_SQL.format(o='o')} from (select %s as owner, %s as assigned_to, "
		"%s as _assign) o",
		(owner, assigned_to, assign),
	)[0]
	assert stage_viewers.key_of(owner, assigned_to, assign) == sql


def test_a_private_reader_through_the_report_and_a_reader_narrowed_otherwise(private_pipeline):
	"""The report as the outsider counts only the shared deal's, the shared row's and no deal's stays; a
	User Permission on top of the visibility is not the visible path's to answer (Frappe's own query)."""
	from frappe.permissions import add_user_permission

	from opportunity_suite.services import time_in_stage

	p = private_pipeline
	visible = {p.deals.d, None}
	wanted = [r for r in p.rows if r["opportunity"] in visible or r["name"] == p.shared_row]
	report = _report(p.users.outsider, "", from_date="2002-01-01", to_date="2002-03-31")
	frappe.set_user("Administrator")
	assert sum(row["stays"] for row in report.stages.values()) == len(wanted)
	add_user_permission("Opportunity Stage History", p.shared_row, p.users.outsider)
	frappe.set_user(p.users.outsider)
	frappe.local.opportunity_suite_visibility = None
	try:
		assert time_in_stage._reader() == time_in_stage.OTHER
	finally:
		frappe.set_user("Administrator")


def test_a_private_readers_count_of_recent_open_deals_is_the_visibilitys(private_pipeline):
	"""The flagged count's open deals entered since a cutoff, for a user under private visibility, equal
	Frappe's count through the visibility's condition: deals their team owns, owned by another and assigned
	to them, theirs through `_assign` alone, without an owner, shared with them; the denied (an outsider)
	gets only the one shared with them; a Sales Manager is not the private path's."""
	from frappe.utils import now_datetime

	from opportunity_suite.services import totals
	from opportunity_suite.services.time_in_stage import _private_recent

	p = private_pipeline
	users = p.users
	token = frappe.generate_hash(length=5).upper()
	# raw SQL: many open deals at once, in the test's transaction (the controller isn't what's tested)
	kinds = [  # owner, Assigned To, `_assign`
		(users.seller1, users.seller1, None),
		(users.seller2, users.seller1, None),  # another's, assigned to seller1
		(users.outsider, users.outsider, frappe.as_json([users.seller1])),  # seller1's through `_assign`
		(None, users.seller1, None),  # no owner
		(users.outsider, None, None),  # the outsider's alone
		(users.manager, users.seller2, frappe.as_json([users.outsider])),
	]
	for i, (owner, assigned_to, assign) in enumerate(kinds * 3):
		frappe.db.sql(
			"""INSERT INTO `tabOpportunity` (name, creation, modified, owner, modified_by, docstatus,
				opportunity_name, amount, currency, exchange_rate, probability, sales_stage, status,
				expected_close_date, assigned_to, _assign, stage_since)
			VALUES (%s, NOW(), NOW(), %s, 'Administrator', 0, %s, 1, 'USD', 1, 10, 'Prospecting', 'Open',
				CURDATE(), %s, %s, NOW() - INTERVAL %s DAY)""",
			(f"TISREC-{token}-{i}", owner, f"Recent {i}", assigned_to, assign, i % 9),
		)
	totals.refresh_like(f"TISREC-{token}-%")  # what code writing deals with raw SQL does
	shared = f"TISREC-{token}-4"  # the outsider's alone, shared with seller2
	frappe.share.add("Opportunity", shared, users.seller2, read=1)
	since = now_datetime() - datetime.timedelta(days=4, hours=12)  # deal i entered i % 9 days ago
	kinds_of = {  # user → the kinds of deal they see (a team lead: seller1's too)
		users.seller1: {0, 1, 2, 3},
		users.lead: {0, 1, 2, 3},
		users.seller2: {1, 5},
		users.outsider: {2, 4, 5},
	}
	seen = {u: {i for i in range(3 * len(kinds)) if i % len(kinds) in k} for u, k in kinds_of.items()}
	seen[users.seller2].add(4)  # shared with them
	try:
		for user in (users.seller1, users.seller2, users.lead, users.outsider):
			frappe.set_user(user)
			frappe.local.opportunity_suite_visibility = None
			wanted = frappe.get_list(
				"Opportunity",
				filters={"status": "Open", "sales_stage": "Prospecting", "stage_since": (">=", since)},
				pluck="name",
				limit_page_length=0,
			)
			assert _private_recent("Prospecting", since) == len(wanted), user
			mine = {n for n in wanted if n.startswith(f"TISREC-{token}-")}
			assert mine == {f"TISREC-{token}-{i}" for i in seen[user] if i % 9 <= 4}, user
		frappe.set_user(users.manager)
		frappe.local.opportunity_suite_visibility = None
		assert _private_recent("Prospecting", since) is None
	finally:
		frappe.set_user("Administrator")
