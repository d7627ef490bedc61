from contextlib import contextmanager

import frappe
from frappe.utils.global_search import search, sync_global_search
from hypothesis import given, settings
from hypothesis import strategies as st

from opportunity_suite.services import search as search_service
from tests.factories import make_opportunity, unique


def test_global_search_finds_an_opportunity_by_name_and_number():
	name = unique("Zephyrine deal")
	opp = make_opportunity(opportunity_name=name, amount=10)
	sync_global_search()
	assert opp.name in {r.name for r in search(name.split()[-1], doctype="Opportunity")}
	assert opp.name in {r.name for r in search(opp.name, doctype="Opportunity")}


def test_opportunity_is_offered_in_global_search_settings():
	allowed = frappe.get_all(
		"Global Search DocType", filters={"parent": "Global Search Settings"}, pluck="document_type"
	)
	assert "Opportunity" in allowed


def test_filter_and_sort_fields_are_indexed():
	indexed = {
		row.Column_name
		for row in frappe.db.sql("show index from `tabOpportunity`", as_dict=True)
		if row.Key_name != "PRIMARY"
	}
	assert {"sales_stage", "status", "expected_close_date", "assigned_to", "closed_on"} <= indexed


# ---- the global search's best rows through the rarer words (services/search_service.ranked_rows) ----

VOCAB = ("zqamber", "zqbirch", "zqcedar", "zqcedarwood", "zqdelta", "zqember")
TYPED = (*VOCAB, "zqced", "zqbir", "zqdel")  # whole words, and starts of words (the last is a prefix)


@contextmanager
def _search_rows(contents: list[list[str]]):
	"""Rows of `__global_search` (MyISAM: no transaction, so removed by hand) holding these words."""
	names = [f"GSTEST-{i}" for i in range(len(contents))]
	frappe.db.sql("delete from `__global_search` where name like 'GSTEST-%%'")
	for name, words in zip(names, contents, strict=True):
		frappe.db.sql(
			"insert into `__global_search` (doctype, name, title, content, published) "
			"values ('Opportunity', %s, %s, %s, 0)",
			(name, name, "Opportunity Name : " + " ".join(words)),
		)
	try:
		yield names
	finally:
		frappe.db.sql("delete from `__global_search` where name like 'GSTEST-%%'")


def _same_ranking(fast: list, slow: list):
	"""The same ranks in the same order, and the same rows above the last rank (rows of equal rank come
	in no set order from MariaDB, to Frappe too)."""
	assert [r.rank for r in fast] == [r.rank for r in slow]
	if fast:
		cut = fast[-1].rank
		assert {r.name for r in fast if r.rank > cut} == {r.name for r in slow if r.rank > cut}
		assert all(r.rank > 0 for r in fast)


@settings(max_examples=40, deadline=None, derandomize=True, database=None)
@given(
	contents=st.lists(st.lists(st.sampled_from(VOCAB), min_size=1, max_size=5), min_size=1, max_size=25),
	typed=st.lists(st.sampled_from(TYPED), min_size=1, max_size=3),
	start=st.integers(min_value=0, max_value=3),
	limit=st.integers(min_value=1, max_value=8),
)
def test_global_search_ranks_as_frappes_query(contents, typed, start, limit):
	word = " ".join(typed)
	with _search_rows(contents):
		if len(typed) > 1:  # the fast path answers (no fallback) for plain words
			assert (
				search_service._ranked_by_words(f"+{word}*", typed, start + limit, ["Opportunity"])
				is not None
			)
		for first, count in ((0, start + limit), (start, limit)):
			fast = search_service.ranked_rows(word, first, count, ["Opportunity"])
			slow = search_service._frappe_ranked(f"+{word}*", first, count, ["Opportunity"])
			_same_ranking(fast, slow)


def test_global_search_falls_back_for_operators_and_common_words(monkeypatch):
	with _search_rows([["zqamber", "zqbirch"], ["zqamber"], ["zqbirch"]]):
		for word in ("zqamber -zqbirch", '"zqamber zqbirch"', "zqamber"):
			assert search_service.ranked_rows(word, 0, 20, ["Opportunity"]) == search_service._frappe_ranked(
				f"+{word}*", 0, 20, ["Opportunity"]
			)
		monkeypatch.setattr(search_service, "GLOBAL_TERM_ROWS", 1)  # "zqbirch" in 2 rows: too common
		assert (
			search_service._ranked_by_words("+zqamber zqbirch*", ["zqamber", "zqbirch"], 20, ["Opportunity"])
			is None
		)
		_same_ranking(
			search_service.ranked_rows("zqamber zqbirch", 0, 20, ["Opportunity"]),
			search_service._frappe_ranked("+zqamber zqbirch*", 0, 20, ["Opportunity"]),
		)
