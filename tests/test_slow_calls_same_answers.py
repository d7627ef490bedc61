"""The link search's first page read in rank order (api/search.py: Frappe's query over the first candidates
in its own order, more until a page is full) answers as Frappe's own search over every candidate, on
random idx / modified / names (hypothesis), as a Sales User, a Sales Manager and a Sales User under private
visibility.

The deals are written straight into the table (raw SQL, no controller needed for what the search reads);
its candidates come from a FULLTEXT index, which sees committed rows only, so they are committed once
(module fixture) and deleted afterwards."""

import json

import frappe
import pytest
from frappe.desk import search as frappe_search
from frappe.utils import today
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opportunity_suite.api import search as search_api
from opportunity_suite.services import search, visibility
from tests.conversion_fixtures import as_user
from tests.factories import make_user


@pytest.fixture(scope="module")
def people():
	"""A team lead with one report, another seller and a manager (committed: the link search's fixture
	commits too)."""
	frappe.set_user("Administrator")
	lead, report, other = (make_user("Sales User") for _ in range(3))
	manager = make_user("Sales Manager")
	frappe.db.set_value("User", report, "reports_to", lead)
	frappe.db.commit()
	yield frappe._dict(lead=lead, report=report, other=other, manager=manager)
	frappe.db.rollback()
	for user in (lead, report, other, manager):
		frappe.delete_doc("User", user, force=True, ignore_permissions=True)
	frappe.db.commit()
	visibility.clear_cache()


def _set_private(private: bool):
	frappe.db.set_single_value(
		"Opportunity Settings", "visibility", visibility.PRIVATE if private else visibility.EVERYONE
	)
	visibility.clear_cache()


def _insert(table: str, rows: list[dict]):
	if not rows:
		return
	columns = list(rows[0])
	frappe.db.sql(
		f"insert into `{table}` ({', '.join(f'`{c}`' for c in columns)}) values "
		+ ", ".join(["(" + ", ".join(["%s"] * len(columns)) + ")"] * len(rows)),
		[row[c] for row in rows for c in columns],
	)


def _deal(name: str, draw_user, **values) -> dict:
	owner, assignee = draw_user(), draw_user()
	assignees = [u for u in (assignee, draw_user()) if u]
	return {
		"name": name,
		"creation": frappe.utils.now(),
		"modified": frappe.utils.now(),
		"owner": owner or "Administrator",
		"modified_by": "Administrator",
		"docstatus": 0,
		"idx": 0,
		"opportunity_name": name,
		"sales_stage": "Prospecting",
		"assigned_to": assignee,
		"_assign": json.dumps(assignees) if assignees else None,
		**values,
	}


# ---------------------------------------------------------------- the link search in rank order


@pytest.fixture(scope="module")
def linked(people):
	"""Deals whose names share a token, with idx and modified drawn at random (Frappe's order after the
	relevance), owned and assigned among the people; committed for the FULLTEXT index."""
	import random

	rng = random.Random(15)
	token = "Rk" + frappe.generate_hash(length=6)
	users = [people.lead, people.report, people.other]
	rows = []
	for i in range(60):
		user = rng.choice(users)
		rows.append(
			_deal(
				f"RANK{token.upper()}-{i:03d}",
				lambda user=user: user,
				opportunity_name=f"{rng.choice(['Renewal', 'Upsell', 'Pilot'])} {rng.randint(1, 99)} {token}",
				idx=rng.choice([0, 0, 0, 1, 2, 5]),
				modified=f"2026-0{rng.randint(1, 9)}-{rng.randint(10, 28)} 10:{i:02d}:00",
				expected_close_date=today(),
				status="Open",
			)
		)
	_insert("tabOpportunity", rows)
	search.refresh([r["name"] for r in rows])
	frappe.db.commit()
	yield frappe._dict(token=token, names=[r["name"] for r in rows])
	frappe.db.rollback()
	search.forget([r["name"] for r in rows])
	frappe.db.sql("delete from `tabOpportunity` where name like %s", (f"RANK{token.upper()}-%",))
	frappe.db.commit()


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(
	words=st.sampled_from(["Renewal", "Upsell 1", "Pilot", "Renewal 4", "enewal", "", "1"]),
	page_length=st.integers(1, 25),
	who=st.sampled_from(["lead", "other", "manager"]),
	private=st.booleans(),
)
def test_link_search_first_page_as_before(people, linked, words, page_length, who, private):
	_set_private(private)
	text = f"{words} {linked.token}".strip() if words != "1" else f"{linked.token}"
	user = people[who]
	ours = as_user(user, search_api.search_link, "Opportunity", text, page_length=page_length)
	before = as_user(user, frappe_search.search_link, "Opportunity", text, page_length=page_length)
	assert ours == before
	assert search.link_search_filters(text, None)  # narrowed and ranked, not Frappe's plain query
	frappe.db.rollback()


def test_link_search_fills_the_page_past_unreadable_candidates(people, linked):
	"""Under private visibility most of the first candidates are someone else's: more are read until the
	page is full, as Frappe's query over all of them gives it."""
	_set_private(True)
	ours = as_user(people.other, search_api.search_link, "Opportunity", linked.token, page_length=10)
	before = as_user(people.other, frappe_search.search_link, "Opportunity", linked.token, page_length=10)
	assert ours == before and len(ours) == 10
	frappe.db.rollback()


def test_candidates_are_ranked_in_frappes_order(linked):
	"""Relevance of the text in the ID first (Frappe's `locate`), then idx desc, then modified desc."""
	rows = frappe.get_all(
		"Opportunity", filters={"name": ("in", linked.names)}, fields=["name", "idx", "modified"]
	)
	text = linked.names[7][-3:]  # "007": in the IDs ending so (the others: no relevance, -9999)

	def relevance(name: str) -> float:
		position = name.upper().find(text.upper()) + 1  # MariaDB's locate: 1-based, 0 when absent
		return 1 / position if position else -9999

	expected = sorted(rows, key=lambda r: (-relevance(r.name), -r.idx, -r.modified.timestamp()))
	assert search.ranked_candidates(linked.names, text) == [r.name for r in expected]
