"""Viewer keys: which history rows a private user reads, found through an index instead of a scan.

With private visibility (services/visibility.py) a Sales User reads the history of the deals whose owner,
Assigned To or Frappe assignees (`_assign`, a JSON text no index serves) are in their team. Finding those
deals scans every opportunity (`locate` on `_assign`), and reading their history one deal at a time is a
dive per deal (100,000 deals for a team lead of five at a million deals: 5 s). Instead each history row
carries its deal's **viewer key**, the MD5 of the deal's owner, Assigned To and `_assign` as stored now,
and `__opportunity_viewer_keys` holds each key's three values. The visibility's own team condition, run on
that small table (one row per combination in use: 50 at a million deals), gives the keys a user sees; the
history rows of those keys are then one range each of the history's `viewer_stay_index`.

The same deals as the visibility condition, exactly: a key's row holds the values it was made of, the
condition is applied to them as it is to the deal (same collation, so a key differing only by case or
trailing spaces is found too). Rows of no deal and rows of a deal that no longer exists have no key.

Kept in step where the pre-aggregated totals are (services/totals/): every path that changes a deal's
owner, Assigned To or `_assign` (a save, an import, a to-do's change that makes Frappe rewrite `_assign`, a
rename, a delete, and code writing deals with raw SQL) calls `totals.refresh…`, which calls `refresh…` here;
`history.insert_history` keys the rows it writes (`key_of`, from the deal it was given), and it or its
caller (the import, through `totals.refresh`) refreshes them. A User renamed by Frappe's rename rewrites
`owner` and `assigned_to` in SQL past every hook: `rebuild()` (the migrate patch) recounts every key, as
for the totals."""

import hashlib

import frappe

HISTORY_TABLE = "`tabOpportunity Stage History`"
KEYS = "__opportunity_viewer_keys"
INDEX = "viewer_stay_index"
PERIOD_INDEX = "viewer_period_index"  # (viewer_key, stage_changed, changed_on, …): a key's stays in a period
COLUMN = "viewer_key"
# the key of the deal `o` as SQL (CHAR(31): a character no user name has)
KEY_SQL = (
	"MD5(CONCAT_WS(CHAR(31), IFNULL({o}.owner, ''), IFNULL({o}.assigned_to, ''), IFNULL({o}._assign, '')))"
)


def _key(alias: str = "o") -> str:
	return KEY_SQL.format(o=alias)


def key_of(owner: str | None, assigned_to: str | None, assign: str | None) -> str:
	"""KEY_SQL of a deal with these values, worked out here (a writer keying the history rows it inserts):
	MariaDB's MD5 hashes the values' utf8mb4 bytes, which are their UTF-8."""
	return hashlib.md5("\x1f".join(v or "" for v in (owner, assigned_to, assign)).encode()).hexdigest()


def ensure_table():
	# raw SQL: a table of the app's own, not a DocType (as the totals' tables: no schema sync touches it)
	frappe.db.sql_ddl(
		f"""create table if not exists `{KEYS}` (
			`viewer_key` char(32) not null primary key,
			`owner` varchar(140) null,
			`assigned_to` varchar(140) null,
			`_assign` text null
		) engine=InnoDB"""
	)


_READY: set[str] = set()  # the sites whose history has the keys (they never go away)


def ready() -> bool:
	"""The history has the column and its indexes, and the keys' table exists (after the migrate patch and
	the migrate that made the period index)."""
	site = getattr(frappe.local, "site", None)
	if site not in _READY:
		if not (
			frappe.db.sql(f"show index from {HISTORY_TABLE} where Key_name = %s", (INDEX,))
			and frappe.db.sql(f"show index from {HISTORY_TABLE} where Key_name = %s", (PERIOD_INDEX,))
			and frappe.db.sql("show tables like %s", (KEYS,))
		):
			return False
		_READY.add(site)
	return True


def _refresh_where(condition: str, values: dict, every_key: bool = False):
	"""Key the history rows of the deals matching `condition` (SQL on the history row `h`) as their deal is
	stored now (no key: no such deal), and record the keys given (`every_key`: also those of rows keyed so
	already). No range is locked: the history rows are read plainly and updated by name, the deals read by
	name with a shared lock (the writer calling this holds them already), so that concurrent creates, whose
	rows go to the same end of the history's indexes, neither queue nor deadlock here (an UPDATE over a join,
	or an INSERT … SELECT, would take next-key locks on the ranges it reads)."""
	rows = frappe.db.sql(
		f"SELECT h.name, h.opportunity, h.viewer_key FROM {HISTORY_TABLE} h WHERE {condition}", values
	)
	names = sorted({opportunity for _name, opportunity, _key in rows if opportunity})
	deals = {}
	for start in range(0, len(names), 1000):
		for name, key, *people in frappe.db.sql(
			f"""SELECT o.name, {_key()}, IFNULL(o.owner, ''), IFNULL(o.assigned_to, ''), IFNULL(o._assign, '')
			FROM `tabOpportunity` o WHERE o.name IN %(names)s LOCK IN SHARE MODE""",
			{"names": tuple(names[start : start + 1000])},
		):
			deals[name] = (key, people)
	rekey: dict[str | None, list[str]] = {}
	for name, opportunity, key in rows:
		wanted = deals[opportunity][0] if opportunity in deals else None
		if wanted != key:
			rekey.setdefault(wanted, []).append(name)
	used = {key for key, _people in deals.values()} if every_key else {key for key in rekey if key}
	record_keys({key: people for key, people in deals.values() if key in used})
	for key, history_names in sorted(rekey.items(), key=lambda item: item[0] or ""):
		for start in range(0, len(history_names), 1000):
			frappe.db.sql(
				f"UPDATE {HISTORY_TABLE} SET viewer_key = %(key)s WHERE name IN %(names)s",
				{"key": key, "names": tuple(sorted(history_names[start : start + 1000]))},
			)


def record_keys(people_of: dict[str, list]):
	"""Add the keys the table doesn't hold yet (a new combination of owner, Assigned To and `_assign`)."""
	keys = sorted(people_of)
	for start in range(0, len(keys), 1000):
		chunk = keys[start : start + 1000]
		known = set(
			frappe.db.sql_list(
				f"SELECT viewer_key FROM `{KEYS}` WHERE viewer_key IN %(keys)s", {"keys": tuple(chunk)}
			)
		)
		missing = [key for key in chunk if key not in known]
		if missing:
			frappe.db.sql(
				f"INSERT IGNORE INTO `{KEYS}` (viewer_key, owner, assigned_to, _assign) VALUES "
				+ ", ".join(["(%s, %s, %s, %s)"] * len(missing)),
				[value for key in missing for value in (key, *people_of[key])],
			)


def refresh(names: list[str]):
	"""Key the history of these deals as they are stored now (saved, reassigned, deleted, renamed), and
	record every key they have (a row inserted keyed already, `history.insert_history`, is rekeyed by
	nobody: its key is recorded here)."""
	names = list(dict.fromkeys(n for n in names or [] if n))
	if not names or not ready():
		return
	for start in range(0, len(names), 1000):
		_refresh_where(
			"h.opportunity IN %(names)s", {"names": tuple(names[start : start + 1000])}, every_key=True
		)


def refresh_range(after: str, last: str):
	"""The same for the deals with `after` < name <= `last` (a set-based writer's key range)."""
	if ready():
		_refresh_where(
			"h.opportunity > %(after)s AND h.opportunity <= %(last)s", {"after": after, "last": last}
		)


def refresh_like(pattern: str):
	"""The same for the deals whose name is LIKE `pattern` (a benchmark's rows)."""
	if ready():
		_refresh_where("h.opportunity LIKE %(like)s", {"like": pattern})


def rebuild(step: int = 20_000, commit: bool = False):
	"""Key every history row and recount the keys (the migrate patch: `commit` after each range of deals),
	a range of deals' names at a time (and the rows past the last deal: no deal, no key)."""
	ensure_table()
	frappe.db.sql(f"DELETE FROM `{KEYS}`")
	frappe.db.sql(
		f"UPDATE {HISTORY_TABLE} SET viewer_key = NULL"
		" WHERE viewer_key IS NOT NULL AND IFNULL(opportunity, '') = ''"
	)
	after = ""
	while True:
		last = frappe.db.sql(
			"SELECT MAX(name) FROM (SELECT name FROM `tabOpportunity` WHERE name > %s ORDER BY name LIMIT %s) t",
			(after, step),
		)[0][0]
		if last is None:
			break
		_refresh_where(
			"h.opportunity > %(after)s AND h.opportunity <= %(last)s", {"after": after, "last": last}, True
		)
		if commit:
			frappe.db.commit()
		after = last
	_refresh_where("h.opportunity > %(after)s", {"after": after}, True)
	from opportunity_suite.services import outcome_totals

	if (
		outcome_totals.keyed()
	):  # and the closed deals' keys (their counted rows carry them: some have no history)
		outcome_totals.record_viewer_keys()


def visible_keys(team_condition: str) -> list[str]:
	"""The keys whose deal passes `team_condition` (visibility.team_condition on the keys' table `k`)."""
	return frappe.db.sql_list(f"SELECT k.viewer_key FROM `{KEYS}` k WHERE {team_condition}")


def out_of_step(names: list[str] | None = None) -> int:
	"""How many history rows (of these deals, or all) have another key than their deal as stored (or than
	none), or a key the keys' table doesn't hold: 0 when every write kept them in step (the tests' check)."""
	key = f"IF(o.name IS NULL, NULL, {_key()})"
	only = " AND h.opportunity IN %(names)s" if names else ""
	return frappe.db.sql(
		f"""SELECT COUNT(*) FROM {HISTORY_TABLE} h LEFT JOIN `tabOpportunity` o ON o.name = h.opportunity
		LEFT JOIN `{KEYS}` k ON k.viewer_key = h.viewer_key
		WHERE (NOT (h.viewer_key <=> {key}) OR (h.viewer_key IS NOT NULL AND k.viewer_key IS NULL)){only}""",
		{"names": tuple(names or ())},
	)[0][0]
