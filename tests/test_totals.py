"""The pre-aggregated totals (services/totals/): every call they serve answers exactly as the query it
replaces, on random pipelines (mixed currencies, private visibility, shares, assignees), and the summary
equals a rebuild after each path that writes opportunities."""

from contextlib import contextmanager

import frappe
import pytest
from frappe.utils import add_days, add_months, get_first_day, today
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from opportunity_suite.api import client
from opportunity_suite.api import search as search_api
from opportunity_suite.services import forecast_report, kanban, totals, visibility
from tests.conversion_fixtures import as_user
from tests.factories import make_opportunity, make_user
from tests.import_fixtures import cleanup  # noqa: F401
from tests.test_visibility import private, team  # noqa: F401

STAGES = ("Prospecting", "Qualification", "Negotiation/Review", "Closed Won", "Closed Lost")


@pytest.fixture(scope="module", autouse=True)
def in_step():
	"""Start from a summary rebuilt from the site's opportunities (earlier tests' raw SQL may have
	committed rows no refresh saw)."""
	frappe.db.rollback()
	totals.rebuild()
	yield


@contextmanager
def without_totals():
	"""Reads as before the summary existed (every call falls back to its own query)."""
	frappe.local.flags.opportunity_totals_ready = False
	try:
		yield
	finally:
		frappe.local.flags.opportunity_totals_ready = None


def _other_currency() -> str:
	default = frappe.db.get_single_value("Opportunity Settings", "default_currency")
	return "EUR" if default != "EUR" else "GBP"


def _lost_reason() -> str:
	return (
		frappe.db.get_value("Lost Reason", {}, "name")
		or frappe.get_doc({"doctype": "Lost Reason", "reason_name": "Totals test"})
		.insert(ignore_permissions=True)
		.name
	)


def _answers(user: str) -> dict:
	"""Every call the summary serves, as `user`."""
	start = get_first_day(today())
	months = {"from_date": str(start), "to_date": str(add_days(add_months(start, 12), -1))}
	out = {}
	for period in ("Month", "Quarter"):
		for status in ("Open", None):
			for group_by in VIEWS:
				filters = {
					"period": period,
					"group_by": group_by,
					**months,
					**({"status": status} if status else {}),
				}
				out[f"report {period} {group_by} {status}"] = as_user(user, forecast_report.run, filters)
	chart = frappe.get_doc("Dashboard Chart", "Weighted Pipeline by Month")  # the workspace's, as it asks
	out["chart"] = as_user(user, forecast_report.run, frappe.parse_json(chart.filters_json))
	out["kanban"] = as_user(user, kanban.column_totals, [])
	out["kanban open"] = as_user(user, kanban.column_totals, [["Opportunity", "status", "=", "Open"]])
	for field in ("owner", "sales_stage", "status", "forecast_category"):
		rows = as_user(user, client.get_group_by_count, "Opportunity", "[]", field)
		out[f"sidebar {field}"] = sorted((r["count"], r["name"] or "") for r in rows)
	out["sidebar assigned_to"] = _top(
		as_user(user, client.get_group_by_count, "Opportunity", "[]", "assigned_to")
	)
	out["count"] = as_user(user, client.get_count, "Opportunity")
	out["count open"] = as_user(
		user, client.get_count, "Opportunity", [["Opportunity", "status", "=", "Open"]]
	)
	out["list count"] = as_user(user, _list_count)
	for card in frappe.get_all("Number Card", filters={"module": "Opportunity Suite"}, pluck="name"):
		doc = frappe.get_doc("Number Card", card)
		out[f"card {card}"] = as_user(user, client.get_number_card_result, doc.as_json(), doc.filters_json)
	return out


def _top(rows: list[dict]) -> list:
	"""A sidebar's counts, as (count, name) sorted; when cut at 50, the rows tied at the cut (in any order
	in SQL) as their count and number only."""
	rows = sorted((r["count"], r["name"] or "") for r in rows)
	if len(rows) < 50:
		return rows
	cut = rows[0][0]
	return [("tied", cut, sum(1 for count, _n in rows if count == cut))] + [r for r in rows if r[0] > cut]


def _list_count() -> int:
	"""The list's full count (frappe.desk.reportview.get_count reads the request's form)."""
	frappe.local.form_dict = frappe._dict(doctype="Opportunity", filters="[]", fields="[]", distinct="false")
	return search_api.reportview_get_count()


VIEWS = ("Stage", "Stage and Assignee", "Period")  # the report's Group By views the totals answer
SUMS = (
	"opportunities",
	"base_amount",
	"base_forecast_amount",
	"pipeline",
	"best_case",
	"commit",
	"closed",
	"omitted",
)


def _assert_same(user: str):
	assert as_user(user, totals.read_scope) is not None  # the summary answers for this user
	fast = _answers(user)
	with without_totals():
		slow = _answers(user)
	assert fast == slow
	_assert_views_agree(fast)


def _assert_views_agree(answers: dict):
	"""The report's views add up to each other: Stage and Assignee's rows per period × stage are the Stage
	view's, per period the Period view's; the chart and summary are the same in all three."""

	def added(rows, *keys):
		out = {}
		for row in rows:
			sums = out.setdefault(tuple(row[k] for k in keys), [0.0] * len(SUMS))
			for i, field in enumerate(SUMS):
				sums[i] += row[field]
		return out

	for period in ("Month", "Quarter"):
		for status in ("Open", None):
			views = {view: answers[f"report {period} {view} {status}"] for view in VIEWS}
			detail, stage, by_period = views["Stage and Assignee"], views["Stage"], views["Period"]
			per_stage = added(stage[1], "period", "sales_stage")
			assert len(per_stage) == len(stage[1])  # a row per period × stage
			expected = added(detail[1], "period", "sales_stage")
			assert set(per_stage) == set(expected)
			for key, sums in per_stage.items():
				assert sums == pytest.approx(expected[key], abs=0.005), key
			expected = added(detail[1], "period")
			for row in by_period[1]:
				sums = [row[field] for field in SUMS]
				assert sums == pytest.approx(expected.get((row["period"],), [0.0] * len(SUMS)), abs=0.005)
			for view in (stage, by_period):
				assert view[3]["data"]["labels"] == detail[3]["data"]["labels"]
				for mine, theirs in zip(
					view[3]["data"]["datasets"], detail[3]["data"]["datasets"], strict=True
				):
					assert mine["values"] == pytest.approx(theirs["values"], abs=0.005)
				assert [s["value"] for s in view[4]] == pytest.approx(
					[s["value"] for s in detail[4]], abs=0.005
				)


DEALS = st.lists(
	st.tuples(
		st.sampled_from(STAGES),
		st.decimals(min_value=0, max_value=10**7, places=2, allow_nan=False),
		st.booleans(),  # in the other currency
		st.integers(min_value=-3, max_value=14),  # months from now
		st.integers(min_value=0, max_value=3),  # who makes it
		st.integers(min_value=0, max_value=4),  # assigned to (4: nobody)
	),
	min_size=1,
	max_size=6,
)


@settings(
	max_examples=6,
	deadline=None,
	derandomize=True,
	database=None,
	phases=[Phase.explicit, Phase.generate],  # no shrinking: each example writes to the site (slow)
	suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(deals=DEALS, share=st.booleans())
def test_every_call_answers_as_its_query_on_random_pipelines(private, team, deals, share):  # noqa: F811
	manager = make_user("Sales Manager")
	users = [team.owner, team.lead, team.other, manager]
	made = []
	for stage, amount, foreign, months, maker, assignee in deals:
		values = {
			"sales_stage": stage,
			"amount": float(amount),
			"expected_close_date": add_days(add_months(get_first_day(today()), months), months % 27),
		}
		if stage == "Closed Lost":
			values["loss_reason"] = _lost_reason()
		if foreign:
			values.update(currency=_other_currency(), exchange_rate=1.37)
		if assignee < 4:
			values["assigned_to"] = users[assignee]
		made.append(as_user(users[maker], make_opportunity, **values))
	if share:
		frappe.share.add_docshare(
			"Opportunity", made[0].name, team.lead, read=1, flags={"ignore_share_permission": 1}
		)
	assert totals.check() == []
	for user in (team.lead, team.owner, manager):  # private visibility (a team lead, its member)
		_assert_same(user)
	frappe.db.set_single_value("Opportunity Settings", "visibility", visibility.EVERYONE)
	visibility.clear_cache()
	try:
		for user in (team.lead, manager):
			_assert_same(user)
	finally:
		frappe.db.set_single_value("Opportunity Settings", "visibility", visibility.PRIVATE)
		visibility.clear_cache()


def test_a_user_without_read_permission_gets_what_frappe_gives(team):  # noqa: F811
	nobody = make_user("Blogger")
	assert as_user(nobody, totals.read_scope) is None
	with pytest.raises(frappe.PermissionError):
		as_user(nobody, kanban.column_totals, [])


def test_filters_it_cannot_answer_fall_back():
	assert totals.parse_filters([["Opportunity", "campaign", "=", "x"]]) is None
	assert totals.parse_filters([["Opportunity", "status", "!=", "Open"]]) is None
	assert totals.parse_filters([["Opportunity", "status", "like", "%O%"]]) is None
	assert totals.parse_filters([["Opportunity", "is_stale", "=", 0]]) is None  # Frappe's ifnull(…, 0)
	assert totals.parse_filters({"status": "Open", "is_stale": 1}) == [
		("status", "=", ("Open",)),
		("is_stale", "=", (1,)),
	]
	for card in frappe.get_all("Number Card", filters={"module": "Opportunity Suite"}, pluck="name"):
		doc = frappe.get_doc("Number Card", card)  # filter rows with Frappe's 5th (hidden) flag
		answered = totals.number_card(frappe._dict(doc.as_dict()), frappe.parse_json(doc.filters_json))
		assert (answered is None) == (card == "Won This Quarter"), card  # closed_on: not a dimension
	filters = forecast_report.normalise_filters({"from_date": "2026-01-05", "to_date": "2026-12-31"})
	assert totals.forecast_rows(filters) is None  # not whole months
	filters = forecast_report.normalise_filters({"organization": "X"})
	assert totals.forecast_rows(filters) is None


# ---------------------------------------------------------------- kept in step by every write path


def _deal(**values):
	return make_opportunity(amount=1000, **values)


def test_desk_save_delete_and_rename_keep_it_in_step():
	doc = _deal()
	assert totals.check() == []
	doc.sales_stage = "Closed Won"
	doc.amount = 2500
	doc.save()
	assert totals.check() == []
	new_name = frappe.rename_doc("Opportunity", doc.name, doc.name + "-R", force=True)
	assert totals.check() == []
	frappe.delete_doc("Opportunity", new_name, force=True)
	assert totals.check() == []


def test_rest_insert_and_set_value_keep_it_in_step():
	from frappe import client as frappe_client

	doc = frappe_client.insert(
		{
			"doctype": "Opportunity",
			"opportunity_name": "REST deal",
			"sales_stage": "Prospecting",
			"expected_close_date": add_days(today(), 10),
			"amount": 300,
			"currency": _other_currency(),
			"exchange_rate": 2,
		}
	)
	assert totals.check() == []
	frappe_client.set_value("Opportunity", doc["name"], "sales_stage", "Qualification")  # a Kanban move
	assert totals.check() == []


def test_assignment_and_unassignment_keep_it_in_step():
	from frappe.desk.form import assign_to

	user = make_user("Sales User")
	doc = _deal()
	assign_to.add({"doctype": "Opportunity", "name": doc.name, "assign_to": [user]})
	assert totals.check() == []
	from opportunity_suite.api.assignment import remove

	remove("Opportunity", doc.name, user)
	assert totals.check() == []


def test_bulk_edit_keeps_it_in_step():
	from frappe.desk.doctype.bulk_update.bulk_update import submit_cancel_or_update_docs

	names = [_deal().name for _ in range(3)]
	submit_cancel_or_update_docs("Opportunity", names, action="update", data={"sales_stage": "Qualification"})
	assert totals.check() == []


def test_stale_flag_writer_keeps_it_in_step():
	from opportunity_suite.services import stale

	doc = _deal(expected_close_date=add_days(today(), -40))
	frappe.db.sql("update `tabOpportunity` set is_stale = 0 where name = %s", doc.name)
	totals.refresh([doc.name])
	stale.refresh_stale([doc.name])
	assert frappe.db.get_value("Opportunity", doc.name, "is_stale") == 1
	assert totals.check() == []


def test_recompute_keeps_it_in_step():
	"""The bulk recompute's SQL range UPDATE (committed per batch) and its Python path."""
	from opportunity_suite.services.recompute import recompute_all_forecasts
	from tests.factories import bulk_make_opportunities, delete_bulk_opportunities, set_forecast_settings

	prefix = "TOT" + frappe.generate_hash(length=6)
	bulk_make_opportunities(30, prefix)
	try:
		assert totals.check() == []
		set_forecast_settings(forecast_formula="amount * probability / 200")
		recompute_all_forecasts(batch_size=7, publish=False)
		assert totals.check() == []
		recompute_all_forecasts(batch_size=7, publish=False, use_sql=False)
		assert totals.check() == []
	finally:
		frappe.db.rollback()
		delete_bulk_opportunities(prefix)
		set_forecast_settings(forecast_formula="amount * probability / 100", forecast_enabled=1)
		frappe.db.commit()
	assert totals.check() == []


def test_lead_conversion_keeps_it_in_step():
	from opportunity_suite.api.lead import convert_lead

	lead = frappe.get_doc(
		{"doctype": "Lead", "first_name": "Totals", "last_name": frappe.generate_hash(length=6)}
	).insert()
	convert_lead(lead.name)
	assert totals.check() == []


def test_raw_sql_writers_call_refresh():
	doc = _deal()
	frappe.db.sql("update `tabOpportunity` set base_amount = 7 where name = %s", doc.name)
	assert totals.check() != []  # the summary doesn't see raw SQL by itself
	totals.refresh([doc.name])
	assert totals.check() == []


def test_fold_moves_the_deltas_and_keeps_the_answer():
	deal = _deal()
	before = kanban.column_totals([])
	assert frappe.db.sql(f"select count(*) from `{totals.DELTAS}`")[0][0] > 0
	try:
		totals.fold()  # commits: the deal made here, deleted below
		assert frappe.db.sql(f"select count(*) from `{totals.DELTAS}`")[0][0] == 0
		assert kanban.column_totals([]) == before and totals.check() == []
	finally:
		frappe.db.rollback()
		frappe.delete_doc("Opportunity", deal.name, force=True, ignore_permissions=True)
		frappe.db.commit()
	assert totals.check() == []


def test_import_and_its_undo_keep_it_in_step(cleanup):  # noqa: F811
	from opportunity_suite.api.importing import undo_import
	from tests.factories import unique
	from tests.import_fixtures import created, csv_bytes, new_import, prepare, run

	tag = unique("Totals")
	existing = make_opportunity(opportunity_name=f"{tag} Existing", amount=100)
	frappe.db.commit()
	cleanup["Opportunity"].append(existing.name)
	rows = [
		["Opportunity Name", "Amount", "Sales Stage", "Expected Close Date"],
		[f"{tag} Existing", "900", "Qualification", "2026-12-31"],
		[f"{tag} a", "1", "Prospecting", "2027-01-31"],
		[f"{tag} b", "2", "Closed Won", "2026-11-30"],
	]
	doc = new_import(cleanup, csv_bytes(rows), duplicate_policy="Overwrite", match_fields="opportunity_name")
	prepare(doc)
	run(doc)
	assert len(created(doc)) == 2
	assert totals.check() == []
	undo_import(doc.name)
	frappe.db.commit()
	assert totals.check() == []


def _create_and_move() -> str:
	doc = make_opportunity(amount=10, assigned_to="Administrator")  # one group for every thread
	doc.sales_stage = "Qualification"
	doc.save()
	return doc.name


def test_concurrent_creates_in_one_group_neither_deadlock_nor_lose_a_count():
	from tests.concurrency import at_once

	results = at_once(_create_and_move, frappe.ValidationError, count=4)
	names = [value for outcome, value in results if outcome == "converted"]
	try:
		assert [outcome for outcome, _value in results] == ["converted"] * 4, results
		assert totals.check() == []
	finally:
		for name in names:
			frappe.delete_doc("Opportunity", name, force=True, ignore_permissions=True)
		frappe.db.commit()
	assert totals.check() == []


def test_a_user_without_read_permission_gets_no_totals_and_frappes_refusal():
	"""The summary answers nobody Frappe would refuse: a user with only a role of another app falls back,
	and the count itself is refused; a Sales Manager alone is answered from it."""
	outsider, manager = make_user("Blogger"), make_user("Sales Manager")
	try:
		frappe.set_user(outsider)
		assert totals.read_scope() is None
		with pytest.raises(frappe.PermissionError):
			client.get_count("Opportunity")
		frappe.set_user(manager)
		assert totals.read_scope() is not None
		assert client.get_count("Opportunity") == frappe.db.count("Opportunity")
	finally:
		frappe.set_user("Administrator")


# ---------------------------------------------------------------- the sidebar's Assigned To


def _assigned_to(owner: str, user: str | None = None) -> list[tuple[int, str]]:
	"""The sidebar's Assigned To over `owner`'s deals, as `user` (Administrator), from the summary and from
	the query it replaces: both, and they must agree."""
	filters = frappe.as_json([["Opportunity", "owner", "=", owner]])
	user = user or frappe.session.user
	fast = as_user(user, client.get_group_by_count, "Opportunity", filters, "assigned_to")
	with without_totals():
		slow = as_user(user, client.get_group_by_count, "Opportunity", filters, "assigned_to")
	assert sorted((r["count"], r["name"]) for r in fast) == sorted((r["count"], r["name"]) for r in slow)
	return sorted((r["count"], r["name"]) for r in fast)


def test_assigned_to_counts_each_to_do_not_cancelled_as_frappe_does():
	"""Frappe's Assigned To counts to-dos (status not Cancelled: a Closed one still counts, while `_assign`
	drops it), once per to-do (a user assigned again after closing counts twice), allocated to System
	Users only; a to-do moved to another record leaves the first."""
	from frappe.desk.form import assign_to

	from opportunity_suite.api.assignment import close, remove

	maker, a, b, c = (make_user("Sales User") for _ in range(4))
	first, second = (as_user(maker, _deal) for _ in range(2))
	base = dict((name, count) for count, name in _assigned_to(maker))  # the maker's own assignment

	def expect(**counts):
		users = {"a": a, "b": b, "c": c}
		total = {**base}
		for key, n in counts.items():
			total[users[key]] = total.get(users[key], 0) + n
		return sorted((n, name) for name, n in total.items() if n)

	assign_to.add({"doctype": "Opportunity", "name": first.name, "assign_to": [a, b]})
	assert _assigned_to(maker) == expect(a=1, b=1)
	as_user(a, close, "Opportunity", first.name, a)  # Closed (by its assignee): out of `_assign`, counted
	assert a not in (frappe.db.get_value("Opportunity", first.name, "_assign") or "")
	assert _assigned_to(maker) == expect(a=1, b=1)
	remove("Opportunity", first.name, b)  # Cancelled: not counted
	assert _assigned_to(maker) == expect(a=1)
	assign_to.add({"doctype": "Opportunity", "name": first.name, "assign_to": [a]})  # again: a 2nd to-do
	assign_to.add({"doctype": "Opportunity", "name": second.name, "assign_to": [c]})
	assert _assigned_to(maker) == expect(a=2, c=1)
	frappe.db.set_value("User", c, "user_type", "Website User")  # no longer a System User
	assert _assigned_to(maker) == expect(a=2)
	frappe.db.set_value("User", c, "user_type", "System User")
	todo = frappe.get_doc("ToDo", {"reference_name": second.name, "allocated_to": c})
	third = as_user(maker, _deal)
	base = dict((name, count) for count, name in _assigned_to(maker))  # with the third deal's own
	todo.reference_name = third.name  # moved: counted on the new deal, gone from the old
	todo.save(ignore_permissions=True)
	assert frappe.db.get_value("ToDo", todo.name, "reference_name") == third.name
	assert totals.check() == []
	assert _assigned_to(maker) == expect()
	filtered = frappe.as_json(
		[["Opportunity", "owner", "=", maker], ["Opportunity", "sales_stage", "=", "x"]]
	)
	assert client.get_group_by_count("Opportunity", filtered, "assigned_to") == []


def test_assigned_to_reads_what_the_user_may_read(private, team):  # noqa: F811
	"""Private visibility: a Sales User counts the to-dos of their team's deals only, a Sales Manager every
	one; a user without read permission is refused, as Frappe's list is."""
	outsider_deal = as_user(team.other, _deal, assigned_to=team.other)
	own_deal = as_user(team.owner, _deal, assigned_to=team.owner)
	for user in (team.owner, team.lead, team.other):
		fast = as_user(user, client.get_group_by_count, "Opportunity", "[]", "assigned_to")
		with without_totals():
			slow = as_user(user, client.get_group_by_count, "Opportunity", "[]", "assigned_to")
		assert _top(fast) == _top(slow)
	assert team.other not in {
		r["name"] for r in as_user(team.owner, client.get_group_by_count, "Opportunity", "[]", "assigned_to")
	}
	assert as_user(team.owner, totals.read_scope).private
	nobody = make_user("Blogger")
	with pytest.raises(frappe.PermissionError):
		as_user(nobody, client.get_group_by_count, "Opportunity", "[]", "assigned_to")
	assert outsider_deal.name and own_deal.name
