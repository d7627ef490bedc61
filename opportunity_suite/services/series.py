"""An opportunity's number (OPP-00042) from Frappe's naming series, without holding the series row for the
whole insert.

Frappe's naming (`frappe.model.naming.getseries`) reads the `tabSeries` row FOR UPDATE and increments it
inside the insert's transaction: the row stays locked until the insert commits, so every other create waits
for the whole of the first one (validation, the assignment, the history row, alerts, the commit), and users
creating at once queue one behind the other. Here the number is taken on a connection of its own, in a
one-statement transaction that holds the row for microseconds. Same `tabSeries` counter, same names:
Frappe's Document Naming Settings, `revert_series_if_last` on delete and the importer's `reserve_names`
keep working on it. The one difference: a create that fails after taking its number leaves a gap in the
numbers (as Frappe's autoincrement names do) instead of giving the number back with its rollback.

A transaction that already holds the series row must take its number in the transaction, as Frappe does: a
second connection would wait for it forever. The app's own holders say so (`hold_in_transaction`: the
importer's `reserve_names`, an opportunity's delete, which gives its number back when it was the last);
for any other holder the second connection waits `WAIT_SECONDS` and then falls back the same way (the
holder may be this transaction, or another's, which the insert then waits for, as Frappe's would)."""

import frappe
import pymysql
from frappe.model import naming

WAIT_SECONDS = 2
LOCK_WAIT_TIMEOUT = 1205  # MariaDB's ER_LOCK_WAIT_TIMEOUT
# one statement: makes the row at 1 or adds one to it, and leaves the number in LAST_INSERT_ID()
_TAKE = (
	"SET STATEMENT innodb_lock_wait_timeout = {wait} FOR "
	"INSERT INTO `tabSeries` (`name`, `current`) VALUES (%s, LAST_INSERT_ID(1)) "
	"ON DUPLICATE KEY UPDATE `current` = LAST_INSERT_ID(IFNULL(`current`, 0) + 1)"
)
_HELD = "opportunity_suite_series_held"


def autoname(doc):
	"""`doc.name` from its DocType's autoname (OPP-.#####), the number taken as above."""
	series = frappe.get_meta(doc.doctype).autoname
	doc.name = naming.parse_naming_series(series, doc=doc, number_generator=next_number)


def next_number(prefix: str, digits: int) -> str:
	"""The series `prefix`'s next number, formatted as Frappe's getseries formats it."""
	if frappe.db.db_type != "mariadb" or prefix in _held():
		return naming.getseries(prefix, digits)
	try:
		number = _take_committed(prefix)
	except pymysql.OperationalError as error:
		if error.args and error.args[0] == LOCK_WAIT_TIMEOUT:
			hold_in_transaction(prefix)
			return naming.getseries(prefix, digits)
		raise
	return ("%0" + str(digits) + "d") % number


def hold_in_transaction(prefix: str):
	"""Say that this transaction holds (or is about to hold) the row of series `prefix`: until it ends,
	numbers of that series are taken in it."""
	held = _held()
	if not held:
		frappe.db.after_commit.add(_release)
		frappe.db.after_rollback.add(_release)
	held.add(prefix)


def hold_for_delete(doc):
	"""After `doc` is deleted: Frappe gives its number back under the series row's lock
	(`revert_series_if_last`), held until the delete's transaction ends."""
	if prefix := series_prefix(doc):
		hold_in_transaction(prefix)


def series_prefix(doc) -> str | None:
	"""The series `doc`'s number comes from (OPP- for OPP-.#####)."""
	seen = []
	autoname = frappe.get_meta(doc.doctype).autoname or ""
	if "#" in autoname:
		naming.parse_naming_series(autoname, doc=doc, number_generator=lambda p, _d: seen.append(p) or "")
	return seen[0] if seen else None


def _held() -> set:
	if getattr(frappe.local, _HELD, None) is None:
		setattr(frappe.local, _HELD, set())
	return getattr(frappe.local, _HELD)


def _release():
	setattr(frappe.local, _HELD, set())


def _take_committed(prefix: str, settings: dict | None = None) -> int:
	"""The series' next number, taken and committed on a connection of its own (`settings`: pymysql's, by
	default this site's)."""
	settings = settings or frappe.db.get_connection_settings()
	connection = pymysql.connect(**settings, autocommit=True, connect_timeout=10)
	try:
		with connection.cursor() as cursor:
			cursor.execute(_TAKE.format(wait=int(WAIT_SECONDS)), (prefix,))
			cursor.execute("SELECT LAST_INSERT_ID()")
			return int(cursor.fetchone()[0])
	finally:
		connection.close()
