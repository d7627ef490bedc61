"""Infix search over a million opportunities: a window index that narrows `LIKE '%q%'` without changing it.

The desk's name box (`opportunity_name like %q%`), its ID box (`name like %q%`) and every Link to Opportunity
(Frappe's `search_link`: `name`, title and search fields `like %q%`) ask MariaDB for an infix LIKE, which no
B-tree can serve: each call read all 1,000,000 rows (2–4 s). InnoDB's FULLTEXT can't answer it either
(whole words of 3+ characters: "Renewal 42" must find "Renewal 4242" and "XRenewal 42").

The index: `__opportunity_search` holds, per opportunity, its name and opportunity name joined, every
character that isn't a letter or digit turned into `_`, cut into **windows**: the 6 characters starting at
each position ("OPP_00 PP_000 … Renewa enewal newal_ ewal_4 wal_42 …"), under an InnoDB FULLTEXT index.
Any text of 3+ characters inside the name is then a window, the start of one, or a run of whole windows, so
`MATCH … AGAINST ('+wal_42' IN BOOLEAN MODE)` finds every opportunity that may match (and a few that don't:
`_` stands for every separator). Nothing is decided by it: the candidates' names are added as one more
filter, `name in (…)`, to the very query Frappe builds (the user's LIKE, Frappe's permission and visibility
conditions, sort and page all stay), so the rows are exactly `LIKE '%q%'`'s.

Kept in step by the app, not by database triggers: a trigger carries its creator's DEFINER into every
backup, and restoring that backup into another site (a new database user without SUPER: `bench restore`,
`scripts/restore`, a host's migration) fails on it. So `refresh`/`forget` run from the Opportunity's
events (insert, a save that changes the name or ID, rename, delete) and from Opportunity Import's batches
and undo; code that writes `tabOpportunity` by raw SQL calls them too. `ensure_search_index` (install,
every migrate) creates what is missing, fills in rows for opportunities that have none, and drops the
triggers an earlier version made.

Where it can't narrow (a text under 3 characters, a LIKE made only of wildcards, more than
`CANDIDATE_LIMIT` candidates, a link search whose text also matches a stage or status), the query runs as
Frappe wrote it. Known limit: characters the collation equates with a letter or digit but which are
symbols (ⓐ = a, ℡) are separators here, so a name spelt with them is found only by that fallback."""

import re

import frappe

from opportunity_suite.services import indexes

TABLE = "__opportunity_search"
WINDOW = 6  # characters per window
MIN_TOKEN = 3  # InnoDB's innodb_ft_min_token_size (default): shorter windows aren't indexed
MAX_TERMS = 2  # a third term rarely narrows what two give, and each costs its documents' read
CANDIDATE_LIMIT = 20_000  # more candidates than this: the plain query is as fast (and a shorter SQL)
_OLD_TRIGGERS = ("insert", "update", "delete")  # an earlier version kept the table by triggers

# One normalisation, in SQL only, for the stored windows and for the query (so both agree by construction)
_NORMALIZE = "regexp_replace({}, '[^[:alnum:]]', '_')"


def _windows_sql(row: str) -> str:
	text = f"concat({row}.name, ' ', ifnull({row}.opportunity_name, ''))"
	# each character followed by the next WINDOW-1 (a look-ahead, so windows overlap), then a space
	return f"regexp_replace({_NORMALIZE.format(text)}, '(.)(?=(.{{0,{WINDOW - 1}}}))', '\\\\1\\\\2 ')"


def ensure_search_index() -> None:
	"""Create the window table and its FULLTEXT index when missing; add rows for opportunities that have
	none (written before the table existed, or by raw SQL that didn't call `refresh`). Idempotent."""
	if not frappe.db.table_exists("Opportunity"):
		return
	created = not frappe.db.sql("show tables like %s", (TABLE,))
	if created:
		frappe.db.sql_ddl(
			f"""create table `{TABLE}` (
				name varchar(140) not null primary key,
				windows text not null
			) engine=InnoDB default charset=utf8mb4 collate=utf8mb4_unicode_ci"""
		)
	_drop_old_triggers()
	_fill_missing()
	if not frappe.db.sql(f"show index from `{TABLE}` where Key_name = 'windows'"):
		# after the rows: a FULLTEXT built at once is sorted, far faster than row by row. No stopwords:
		# a window "the" or "and" must be found like any other
		frappe.db.sql("set session innodb_ft_enable_stopword = 0")
		try:
			frappe.db.sql_ddl(f"alter table `{TABLE}` add fulltext index windows (windows)")
		except Exception as error:
			if not frappe.db.is_duplicate_entry(error) and "Duplicate key name" not in str(error):
				raise  # else another process (a parallel migrate) made it meanwhile
		finally:
			frappe.db.sql("set session innodb_ft_enable_stopword = 1")


def _drop_old_triggers() -> None:
	for event in _OLD_TRIGGERS:
		frappe.db.sql_ddl(f"drop trigger if exists `{TABLE}_{event}`")


def refresh(names: list[str]) -> None:
	"""(Re)write the windows of these opportunities from what `tabOpportunity` holds now (in the caller's
	transaction: FULLTEXT sees them once it commits)."""
	for start in range(0, len(names), 1000):
		chunk = names[start : start + 1000]
		frappe.db.sql(
			f"""insert into `{TABLE}` (name, windows)
			select o.name, {_windows_sql("o")} from `tabOpportunity` o where o.name in %(names)s
			on duplicate key update windows = values(windows)""",
			{"names": chunk},
		)


def refresh_statements(rows: list[tuple[str, str | None]]) -> list[str]:
	"""`refresh` for opportunities given by their values, (name, opportunity name): the same windows by the
	same SQL, from the values instead of `tabOpportunity`, as statements with the values inline. For the
	importer's search connection, which can't see the rows of a batch before it commits (services/
	importing/writer.py: a killed run rewrites the windows of its last batches when resumed)."""
	import json

	from pymysql.converters import escape_string  # as the driver escapes a parameter (no % doubling)

	statements = []
	for start in range(0, len(rows), 1000):
		values = json.dumps([[name, title] for name, title in rows[start : start + 1000]], ensure_ascii=False)
		statements.append(
			f"""insert into `{TABLE}` (name, windows)
			select o.name, {_windows_sql("o")} from json_table('{escape_string(values)}', '$[*]' columns (
				name varchar(140) path '$[0]', opportunity_name text path '$[1]')) o
			on duplicate key update windows = values(windows)"""
		)
	return statements


def forget(names: list[str]) -> None:
	for start in range(0, len(names), 1000):
		frappe.db.sql(
			f"delete from `{TABLE}` where name in %(names)s", {"names": names[start : start + 1000]}
		)


def on_change(doc, method=None) -> None:
	"""Opportunity after_insert / on_update: a new deal, or a save that changed what the windows hold."""
	if method == "after_insert" or doc.has_value_changed("opportunity_name"):
		refresh([doc.name])


def on_rename(doc, method=None, old=None, new=None, merge=False) -> None:
	forget([old])
	refresh([new])


def on_delete(doc, method=None) -> None:
	forget([doc.name])


def _fill_missing() -> None:
	frappe.db.sql(
		f"""insert into `{TABLE}` (name, windows)
		select o.name, {_windows_sql("o")} from `tabOpportunity` o
		left join `{TABLE}` s on s.name = o.name where s.name is null"""
	)
	frappe.db.commit()


def drop_search_index() -> None:
	"""The table (for a benchmark's "before")."""
	_drop_old_triggers()
	frappe.db.sql_ddl(f"drop table if exists `{TABLE}`")


def _search_terms(pattern: str) -> str | None:
	"""The boolean FULLTEXT query every row matching `LIKE pattern` satisfies, or None if there is none.
	Each literal run of the pattern (between the wildcards % and _; Frappe escapes backslashes) must occur in
	a match; a run of 3+ characters gives its windows: whole windows exactly, a shorter run as a prefix."""
	runs = [run for run in re.split(r"[%_]", pattern) if len(run) >= MIN_TOKEN]
	if not runs:
		return None
	normalized = frappe.db.sql("select " + ", ".join([_NORMALIZE.format("%s")] * len(runs)), runs)[0]
	prefixes, windows = [], []
	for text in normalized:
		if len(text) < WINDOW:
			prefixes.append(f"{text}*")
			continue
		starts = dict.fromkeys(
			[len(text) - WINDOW, *range((len(text) - WINDOW) // WINDOW * WINDOW, -1, -WINDOW)]
		)
		windows.extend(text[i : i + WINDOW] for i in starts)
	# InnoDB reads the first term's documents in full and then every other term's list too: one common
	# term ("Renewa": 200,000 deals) costs a second, so ask for as few, as rare terms as possible. Digits
	# tell deals apart best, then what was typed last: the window with most digits (the last one among
	# equals), a second one only if it has digits too ("Renewal 42": "wal_42" alone; "4242 Acme": "4242_A")
	windows.sort(key=lambda window: -sum(char.isdigit() for char in window))
	chosen = windows[:1] + [w for w in windows[1:2] if sum(char.isdigit() for char in w) >= 2]
	terms = [*chosen, *sorted(prefixes, key=len, reverse=True)][:MAX_TERMS]
	return " ".join(f"+{term}" for term in terms)


def candidate_names(pattern: str) -> list[str] | None:
	"""The names of opportunities whose name or opportunity name may match `LIKE pattern` (every one that
	does, and some that don't), or None when the index can't narrow it down."""
	terms = _search_terms(pattern)
	if terms is None or not frappe.db.sql("show tables like %s", (TABLE,)):
		return None
	names = frappe.db.sql(
		f"select name from `{TABLE}` where match(windows) against (%s in boolean mode) limit %s",
		(terms, CANDIDATE_LIMIT + 1),
		pluck=True,
	)
	return None if len(names) > CANDIDATE_LIMIT else names


# ---- the list, report view, Kanban and counts: filters as reportview receives them ----

_NARROWED_FIELDS = ("name", "opportunity_name")


def _like_filter_value(condition) -> str | None:
	"""The LIKE pattern of a filter on the name or opportunity name, in any of Frappe's filter shapes."""
	if isinstance(condition, list | tuple):
		if len(condition) == 4 and condition[0] not in (None, "Opportunity"):
			return None  # a child table's field
		field, operator, value = condition[-3:] if len(condition) >= 3 else (None, None, None)
	else:
		return None
	if field in _NARROWED_FIELDS and str(operator).lower() == "like" and isinstance(value, str):
		return value
	return None


def narrow_filters(filters):
	"""`filters` plus `name in (candidates)` for each LIKE on the name or opportunity name the index can
	narrow: the same rows, found without reading the table. Accepts Frappe's list, dict or JSON forms."""
	filters = frappe.parse_json(filters) if isinstance(filters, str) else filters
	if not filters:
		return filters
	if isinstance(filters, dict):
		items = [
			[field, *(value if isinstance(value, list | tuple) else ["=", value])]
			for field, value in filters.items()
		]
	else:
		items = list(filters)
	extra = []
	for condition in items:
		pattern = _like_filter_value(condition)
		if pattern is None:
			continue
		names = candidate_names(pattern)
		if names is not None:
			extra.append(["Opportunity", "name", "in", names or [""]])
	return [*items, *extra] if extra else filters


# ---- Link fields: frappe.desk.search.search_link ----


def link_search_filters(txt: str, filters):
	"""The link search's filters plus `name in (candidates)`, or None when they can't be narrowed; [] when
	nothing can match. Frappe's search is `name`, the title and every search field `like %txt%` (OR): the
	index covers the first two; another field (stage, status) is checked over its distinct values through its
	index, and the search is left as it is when its values match (every deal in that stage would)."""
	if not txt:
		return None
	pattern = f"%{txt}%"
	meta = frappe.get_meta("Opportunity")
	others = {f.strip() for f in (meta.search_fields or "").split(",") if f.strip()} - set(_NARROWED_FIELDS)
	for fieldname in others:
		if _any_value_like(meta, fieldname, pattern) is not False:
			return None
	names = candidate_names(pattern)
	if names is None:
		return None
	if not names:
		return []
	if isinstance(filters, str):
		filters = frappe.parse_json(filters)
	if isinstance(filters, dict):
		from frappe.utils.data import make_filter_tuple

		filters = [make_filter_tuple("Opportunity", key, value) for key, value in filters.items()]
	return [*(filters or []), ["Opportunity", "name", "in", names]]


def _any_value_like(meta, fieldname: str, pattern: str) -> bool | None:
	"""Whether any stored value of an indexed field is `LIKE pattern` (its distinct values, read from its
	index); None for a field this can't tell cheaply (not indexed, not a column)."""
	if not meta.get_field(fieldname) or not indexes.leads_an_index("Opportunity", fieldname):
		return None
	like = pattern.replace("\\", "\\\\")  # as Frappe's filter escapes it
	return bool(
		frappe.db.sql(
			f"select 1 from (select distinct `{fieldname}` v from `tabOpportunity`) d where d.v like %s limit 1",
			(like,),
		)
	)


# ---- the desk's global search: Frappe's query, with its MATCH as a condition too ----

GLOBAL_TERM_ROWS = 2000  # more rows than this for one optional term: Frappe's own query (as fast)
_PLAIN_WORD = re.compile(r"^\w+$")  # a word MyISAM's boolean parser reads as one word, no operator


def global_search(text: str, start: int = 0, limit: int = 20, doctype: str = "") -> list:
	"""Frappe's `frappe.utils.global_search.search`, the same ranking query with `WHERE MATCH(...)`: Frappe
	ranks every row of `__global_search` (1,000,000 opportunities: a full scan and sort) and then drops those
	of rank 0; asking only for rows of rank > 0 lets MyISAM's FULLTEXT index find them, same results. Each
	`&` part's best rows are found by its rare words first (`ranked_rows`)."""
	from frappe.desk.doctype.global_search_settings.global_search_settings import (
		get_doctypes_for_global_search,
	)
	from frappe.utils import cint

	allowed_doctypes = set(get_doctypes_for_global_search()) & set(frappe.get_user().get_can_read())
	if not allowed_doctypes or (doctype and doctype not in allowed_doctypes):
		return []
	results = []
	for word in set(text.split("&")):
		word = word.strip()
		if word:
			results.extend(
				ranked_rows(word, cint(start), cint(limit), [doctype] if doctype else allowed_doctypes)
			)
	ordered = []
	for allowed in allowed_doctypes:  # Frappe's order: by DocType as its set gives them, rank > 0
		for result in results:
			if result.doctype == allowed and result.rank > 0.0:
				meta = frappe.get_meta(result.doctype)
				if meta.image_field:
					result.image = frappe.db.get_value(result.doctype, result.name, meta.image_field)
				ordered.append(result)
	return ordered


def ranked_rows(word: str, start: int, limit: int, doctypes) -> list:
	"""Frappe's rows for one search text: `MATCH(content) AGAINST ('+<word>*' IN BOOLEAN MODE)` (its
	`Match.Against`), rank > 0, best first, `limit` from `start` (rows of equal rank in no set order, as
	MariaDB gives them to Frappe).

	"Renewal 4242" is `+Renewal 4242*`: every row holds "renewal", ranked higher when it holds a word
	starting 4242 too (MyISAM's boolean rank counts which words a row holds, not how often). Frappe ranks
	all 125,000 rows with "renewal" to keep 20 (2–5 s); the rows holding an optional word are found through
	each of those words alone (a rare word: milliseconds) and ranked by Frappe's own MATCH, and if they are
	fewer than asked, any rows holding only the first word make up the rest (all of one rank, the lowest).
	A text of one word, or with anything but plain words, or an optional word in more than
	`GLOBAL_TERM_ROWS` rows, runs Frappe's query."""
	query = f"+{word}*"
	words = word.split()
	rows = None
	if len(words) > 1 and all(_PLAIN_WORD.match(w) for w in words):
		rows = _ranked_by_words(query, words, start + limit, doctypes)
	if rows is None:
		return _frappe_ranked(query, start, limit, doctypes)
	return rows[start : start + limit]


def _select(condition: str) -> str:
	return (
		"select doctype, name, content, match(content) against (%(query)s in boolean mode) as `rank` "
		f"from `__global_search` where match(content) against ({condition} in boolean mode) "
		"and doctype in %(doctypes)s"
	)


def _ranked_by_words(query: str, words: list[str], wanted: int, doctypes) -> list | None:
	optional = [*words[1:-1], f"{words[-1]}*"]  # as MyISAM reads `query`: the first word required
	values = {"query": query, "doctypes": tuple(doctypes)}
	found = {}
	for term in optional:
		rows = frappe.db.sql(
			_select("%(term)s") + " limit %(cap)s",
			{**values, "term": f"+{term}", "cap": GLOBAL_TERM_ROWS + 1},
			as_dict=True,
		)
		if len(rows) > GLOBAL_TERM_ROWS:
			return None
		found.update({(row.doctype, row.name): row for row in rows if row.rank > 0})
	ranked = sorted(found.values(), key=lambda row: -row.rank)
	if len(ranked) < wanted:  # the first word's rows without any optional word: one rank, the lowest
		ranked += frappe.db.sql(
			_select("%(rest)s") + " limit %(more)s",
			{
				**values,
				"rest": " ".join([f"+{words[0]}", *(f"-{t}" for t in optional)]),
				"more": wanted - len(ranked),
			},
			as_dict=True,
		)
	return ranked


def _frappe_ranked(query: str, start: int, limit: int, doctypes) -> list:
	"""Frappe's query, rows of rank > 0 only (through the FULLTEXT index)."""
	return frappe.db.sql(
		_select("%(query)s") + " order by `rank` desc limit %(limit)s offset %(start)s",
		{"query": query, "doctypes": tuple(doctypes), "limit": limit, "start": start},
		as_dict=True,
	)
