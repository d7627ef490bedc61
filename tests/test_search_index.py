"""The infix search's window index (services/search.py): the narrowed queries return exactly `LIKE %q%`'s
rows, for the list's filters, the counts and the link search, with permissions and private visibility
applied; the index exists after migrate and follows inserts, renames, edits and deletes at once.

InnoDB shows a FULLTEXT index's changes only once committed, so these tests commit their deals (names
with a unique token) and delete them afterwards."""

import frappe
import pytest
from frappe.desk import reportview
from frappe.desk import search as frappe_search
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opportunity_suite.api import search as search_api
from opportunity_suite.services import search, visibility
from tests.conversion_fixtures import as_user
from tests.factories import make_opportunity, make_user, unique

NAMES = [
	"Renewal 4242 Acme",
	"Renewal 42 Acme",
	"XRenewal 4200 Zürich GmbH",
	"ZÜRICH renewal",
	"华东销售部 Renewal 42",
	"华东 deal",
	"O'Brien & Sons: the deal",
	"50% off_deal",
	"back\\slash deal",
	'Quote "double" deal',
	"a",
	"ab-cd",
	"Ärger mit Öl",
	"  spaced   out  ",
	"Renewal 4242 Acme Corporation Ltd (EMEA)",
]


@pytest.fixture(scope="module")
def deals():
	"""The names above, each with a token of the run, committed (the index sees committed rows only)."""
	frappe.set_user("Administrator")
	token = unique("Srch").replace(" ", "")
	made = [make_opportunity(opportunity_name=f"{name} {token}"[:140]).name for name in NAMES]
	made += [make_opportunity(opportunity_name=name).name for name in NAMES[:6]]  # without the token
	frappe.db.commit()
	yield frappe._dict(token=token, names=made)
	frappe.db.rollback()
	for name in made:
		frappe.delete_doc("Opportunity", name, force=True, ignore_permissions=True)
	frappe.db.commit()


def _like(field: str, text: str) -> list[str]:
	filters = [["Opportunity", field, "like", f"%{text}%"]]
	return sorted(frappe.get_all("Opportunity", filters=filters, pluck="name", limit=0))


def _narrowed(field: str, text: str) -> list[str]:
	filters = search.narrow_filters([["Opportunity", field, "like", f"%{text}%"]])
	return sorted(frappe.get_all("Opportunity", filters=filters, pluck="name", limit=0))


def test_the_index_exists_after_migrate_and_no_trigger_does():
	assert frappe.db.sql("show tables like %s", (search.TABLE,))
	assert frappe.db.sql(
		f"show index from `{search.TABLE}` where Key_name = 'windows' and Index_type = 'FULLTEXT'"
	)
	triggers = set(
		frappe.db.sql(
			"select trigger_name from information_schema.triggers where trigger_schema = database()"
			" and event_object_table = 'tabOpportunity'",
			pluck=True,
		)
	)
	# a trigger's DEFINER would break restoring a backup into another site (services/search.py)
	assert not triggers
	search.ensure_search_index()  # as every migrate: rows for whatever raw SQL wrote since (other tests')
	missing = frappe.db.sql(
		f"select count(*) from `tabOpportunity` o left join `{search.TABLE}` s on s.name = o.name"
		" where s.name is null"
	)[0][0]
	assert missing == 0


@pytest.mark.parametrize(
	"text",
	[
		"Renewal 42",
		"Renewal 4242",
		"enewal 4",
		"zurich",
		"ZÜRICH",
		"华东销售",
		"Brien & S",
		"the deal",
		"50% off",
		"back\\sl",
		'e "dou',
		"spaced   out",
		"Acme Corporation Ltd (EMEA)",
		"renewal",
		"arger",
	],
)
def test_narrowed_rows_are_exactly_the_like_rows(deals, text):
	filters = search.narrow_filters([["Opportunity", "opportunity_name", "like", f"%{text}%"]])
	assert filters[-1][:3] == ["Opportunity", "name", "in"]  # narrowed: the index was used
	assert _narrowed("opportunity_name", text) == _like("opportunity_name", text)
	assert _like("opportunity_name", text)  # each text finds something


def test_short_or_wildcard_only_text_is_left_to_frappe(deals):
	for text in ("42", "华东", "%", "_", "a_", "%%"):
		filters = [["Opportunity", "opportunity_name", "like", f"%{text}%"]]
		assert search.narrow_filters(filters) == filters
	# a LIKE with wildcards inside: each literal run must occur, the longest ones narrow
	text = "Renewal%Acme"
	assert search.narrow_filters([["opportunity_name", "like", f"%{text}%"]])[-1][1] == "name"
	assert _narrowed("opportunity_name", text) == _like("opportunity_name", text)


def test_the_id_box_and_dict_filters_are_narrowed_too(deals):
	number = deals.names[0].split("-")[-1]
	assert _narrowed("name", number) == _like("name", number) == [deals.names[0]]
	narrowed = search.narrow_filters({"opportunity_name": ["like", f"%{deals.token}%"], "status": "Open"})
	assert sorted(frappe.get_all("Opportunity", filters=narrowed, pluck="name", limit=0)) == sorted(
		deals.names[: len(NAMES)]
	)


_ALPHABET = "Rrenwal4 2AcmeZüÜ华东销'&%_\\\" -()"


@settings(max_examples=120, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(
	text=st.one_of(
		st.text(_ALPHABET, min_size=1, max_size=10),
		st.sampled_from(NAMES).flatmap(
			lambda name: st.tuples(st.integers(0, len(name)), st.integers(1, 12)).map(
				lambda cut: name[cut[0] : cut[0] + cut[1]]
			)
		),
	)
)
def test_fuzzed_queries_equal_like(deals, text):
	if not text.strip("%"):
		return
	assert _narrowed("opportunity_name", text) == _like("opportunity_name", text)


def test_list_and_count_over_the_desk_methods_equal_frappe(deals):
	filters = frappe.as_json([["Opportunity", "opportunity_name", "like", f"%Renewal 42%{deals.token}%"]])
	args = {
		"doctype": "Opportunity",
		"fields": frappe.as_json(["`tabOpportunity`.`name`", "`tabOpportunity`.`opportunity_name`"]),
		"filters": filters,
		"order_by": "`tabOpportunity`.`modified` desc",
		"start": 0,
		"page_length": 20,
	}
	frappe.local.form_dict = frappe._dict(args)
	plain = reportview.get()
	plain_count = reportview.get_count()
	frappe.local.form_dict = frappe._dict(args)
	ours = search_api.reportview_get()
	assert frappe.local.form_dict.filters[-1][:3] == ["Opportunity", "name", "in"]
	frappe.local.form_dict = frappe._dict(args)
	assert search_api.reportview_get_count() == plain_count == 5
	assert ours == plain


def test_link_search_equals_frappe_and_skips_stage_matches(deals):
	for text in ("Renewal 42", deals.token, "Zürich GmbH", "zzz-nothing-" + deals.token, "qqzzxxwwvv"):
		assert search_api.search_link("Opportunity", text) == frappe_search.search_link("Opportunity", text)
	assert search.link_search_filters("Renewal 42", None)[-1][:3] == ["Opportunity", "name", "in"]
	assert search.link_search_filters("qqzzxxwwvv", None) == []  # no candidate: nothing to ask Frappe
	# "Prospect" is in a stage's name: every deal in that stage matches, so Frappe's own search runs
	assert search.link_search_filters("Prospect", None) is None
	assert search.link_search_filters("Open", None) is None  # a status
	# the link's own filters are kept
	filtered = search_api.search_link(
		"Opportunity", deals.token, filters={"opportunity_name": ["like", "Renewal%"]}
	)
	assert {row["value"] for row in filtered} == set(deals.names[:2]) | {deals.names[14]}


@pytest.fixture
def private_deal():
	owner, other = make_user("Sales User"), make_user("Sales User")
	token = unique("Privy").replace(" ", "")
	name = as_user(owner, make_opportunity, opportunity_name=f"Renewal 4242 {token}").name
	frappe.db.commit()
	yield frappe._dict(owner=owner, other=other, token=token, name=name)
	frappe.db.rollback()
	frappe.delete_doc("Opportunity", name, force=True, ignore_permissions=True)
	for user in (owner, other):
		frappe.delete_doc("User", user, force=True, ignore_permissions=True)
	frappe.db.commit()
	visibility.clear_cache()


def test_a_private_deal_is_found_by_its_owner_only(private_deal):
	settings_doc = frappe.get_single("Opportunity Settings")
	settings_doc.visibility = visibility.PRIVATE
	settings_doc.save()  # not committed: the test's transaction is rolled back
	visibility.clear_cache()
	text = f"4242 {private_deal.token}"

	def found(user):
		rows = as_user(user, search_api.search_link, "Opportunity", text)
		listed = as_user(
			user,
			frappe.get_list,
			"Opportunity",
			filters=search.narrow_filters([["opportunity_name", "like", f"%{text}%"]]),
			pluck="name",
		)
		return [row["value"] for row in rows], listed

	assert found(private_deal.owner) == ([private_deal.name], [private_deal.name])
	assert found(private_deal.other) == ([], [])


def _found(text: str) -> list[str]:
	"""The deals the name box finds for `text`, through the index (which must have been used)."""
	filters = search.narrow_filters([["opportunity_name", "like", f"%{text}%"]])
	assert filters[-1][:3] == ["Opportunity", "name", "in"]
	return frappe.get_all("Opportunity", filters=filters, pluck="name")


def test_new_renamed_edited_and_deleted_deals_are_found_or_not_at_once():
	token = unique("Fresh").replace(" ", "")
	deal = make_opportunity(opportunity_name=f"Renewal 4242 {token}")
	frappe.db.commit()
	try:
		assert _found(token) == [deal.name]
		deal.opportunity_name = f"Upsell 77 {token}x"
		deal.save()
		frappe.db.commit()
		assert _found(f"Renewal 4242 {token}") == []
		assert _found(f"Upsell 77 {token}x") == [deal.name]
		new_name = f"OPP-R{frappe.generate_hash(length=6).upper()}"
		frappe.rename_doc("Opportunity", deal.name, new_name, force=True)
		frappe.db.commit()
		assert _found(token) == [new_name]
		assert search.candidate_names(f"%{new_name[4:]}%") == [new_name]  # the ID box
		deal = frappe.get_doc("Opportunity", new_name)
	finally:
		frappe.delete_doc("Opportunity", deal.name, force=True, ignore_permissions=True)
		frappe.db.commit()
	assert search.candidate_names(f"%{token}%") == []
	assert not frappe.db.sql(f"select 1 from `{search.TABLE}` where name = %s", (deal.name,))


def test_rows_written_by_raw_sql_are_indexed_by_refresh_or_the_next_migrate():
	from tests.factories import bulk_make_opportunities, delete_bulk_opportunities

	prefix = "SRCH" + frappe.generate_hash(length=4).upper()
	# one INSERT … SELECT, committed: no event of Frappe's runs for it
	bulk_make_opportunities(30, prefix)
	try:
		names = frappe.get_all("Opportunity", {"name": ("like", f"{prefix}-%")}, pluck="name", limit=0)
		assert len(names) == 30
		search.refresh(names[:10])  # what code writing by raw SQL calls
		frappe.db.commit()
		assert len(search.candidate_names(f"%{prefix}-%")) == 10
		search.ensure_search_index()  # what every migrate runs: the rest
		assert len(search.candidate_names(f"%{prefix}-%")) == 30
	finally:
		search.forget(names)
		delete_bulk_opportunities(prefix)
		frappe.db.commit()
	assert search.candidate_names(f"%{prefix}-%") == []


def test_global_search_returns_what_frappes_returns():
	from frappe.utils.global_search import search as frappe_global_search
	from frappe.utils.global_search import sync_global_search

	token = unique("Glob").replace(" ", "")
	for name in ("Renewal 4242 Acme", "Renewal 4243 Globex", "Upsell 4242 Acme"):
		make_opportunity(opportunity_name=f"{name} {token}")
	sync_global_search()
	for text in (token, f"Acme {token}", f"4242 & {token}", "zzqxnothing"):
		for doctype in ("", "Opportunity"):
			ours = search.global_search(text, doctype=doctype)
			theirs = frappe_global_search(text, doctype=doctype)
			# the same rows and ranks (rows of equal rank come in no fixed order, in Frappe's too)
			assert sorted((r.doctype, r.name, r.rank) for r in ours) == sorted(
				(r.doctype, r.name, r.rank) for r in theirs
			)
	assert len(search.global_search(token, doctype="Opportunity")) == 3


def test_windows_written_from_values_equal_those_refresh_writes_from_the_table():
	"""What the importer's search connection writes for a batch (`refresh_statements`, from the values)
	is what `refresh` writes from the stored rows, for names that test the normalisation."""
	from opportunity_suite.services.importing.writer import GlobalSearchWriter

	token = unique("Win").replace(" ", "")
	titles = [
		f"Zürich – ÄÖÜ {token}",
		f"a'b\"c\\d %s %% `x` {token}",
		f"emoji 😀 x {token}",
		f"中文名称 项目 {token}",
		f"tab\there  {token}  ",
		f"ⓐ℡ {token}",
	]
	deals = [make_opportunity(opportunity_name=title) for title in titles]
	frappe.db.commit()
	names = [d.name for d in deals]

	def stored():
		return dict(
			frappe.db.sql(f"select name, windows from `{search.TABLE}` where name in %(n)s", {"n": names})
		)

	try:
		search.refresh(names)
		frappe.db.commit()
		from_table = stored()
		assert len(from_table) == len(names)
		search.forget(names)
		frappe.db.commit()
		writer = GlobalSearchWriter()
		try:
			writer.wait(
				writer.submit_statements(
					search.refresh_statements([(d.name, d.opportunity_name) for d in deals])
				)
			)
		finally:
			writer.close()
		frappe.db.rollback()  # a new snapshot: the writer's rows are committed
		assert stored() == from_table
		assert _found(f"ÄÖÜ {token}") == [deals[0].name]
	finally:
		for deal in deals:
			frappe.delete_doc("Opportunity", deal.name, force=True, ignore_permissions=True)
		frappe.db.commit()
