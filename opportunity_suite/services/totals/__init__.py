"""Pre-aggregated opportunity totals: the whole-table counts and sums the desk asks for, at a million rows.

The Opportunity Forecast report and its workspace chart, the Kanban column totals, the number cards, the
list sidebar's group-by counts and the list's full count each aggregate every opportunity a user may read:
0.2–7 s at 1,000,000 rows, however they are indexed (the report's GROUP BY over four text columns alone is
5 s). They group and filter by few columns, so one summary answers them all: per combination of

    sales stage, status, forecast category, owner, assigned to, `_assign`, currency, stale flag and the
    month of the expected close, and who its to-dos are allocated to (the sidebar's Assigned To)

the number of opportunities, how many have a base amount, and the sums of the base (default-currency)
amount and forecast. 16,027 rows for the benchmark's million deals. `owner`, `assigned_to` and
`_assign` are what private visibility decides by (services/visibility.py), so the same condition, applied
to the summary, selects the same deals' totals.

Four tables, none a DocType (no Frappe schema sync touches them; `bench trim-tables` ignores `__` tables):

- `__opportunity_totals_rows`: per opportunity, what the summary counts it for (its dimensions and
  amounts). Every write path calls `refresh(names)` after writing (or `refresh_range` for a key range):
  the difference between the deal as stored and as counted becomes a delta, and the row is brought up to
  date. Idempotent and order-free: calling it twice, or for a deal that didn't change, adds nothing; a
  path that misses it leaves a difference that the next refresh of that deal (or `rebuild`) repairs.
- `__opportunity_totals_delta`: append-only changes (a plain INSERT with an auto-increment key: no row
  is shared between concurrent saves, so creates neither deadlock nor queue on a hot totals row, which an
  `INSERT … ON DUPLICATE KEY UPDATE` of the summary itself would do: its next-key locks put concurrent
  savers of one group in a line, and two groups' gap locks in a deadlock).
- `__opportunity_totals_coarse`: the same without owner, assignees and month (~20 rows), for the calls
  that group and filter by none of them for a user who sees every deal (Kanban, cards, counts, sidebar).
- `__opportunity_totals`: the summary, keyed by a hash of the dimensions; `fold` (a job, one at a time,
  every scheduler tick and after imports and recomputes) moves the deltas into it in one transaction.

A read adds the summary and the unfolded deltas (`union all`, one statement: one consistent snapshot).

What the summary answers, and what falls back to the query it replaces (`answerable`): filters `=` (with
a non-empty value) or `in` on its dimensions; the report's month-aligned date ranges; a user with read
permission whose Frappe read conditions are none or exactly the app's visibility condition. Anything else
(a `like`, `!=`, a date filter on the list, `organization`, a User Permission, a server-script condition, a
user who reads only what was shared with them) runs the original query. Deals shared with a private user
are read from the opportunities themselves (a few, by name) and added to what the summary gives."""

# the package's face: what the write paths, the desk's calls and the hooks use (the SQL shapes stay inside)
from opportunity_suite.services.totals.keeping import (
	after_insert,
	check,
	ensure_totals,
	fold,
	on_change,
	on_rename,
	on_todo_change,
	rebuild,
	refresh,
	refresh_forecast_range,
	refresh_like,
	refresh_range,
)
from opportunity_suite.services.totals.reading import (
	Scope,
	answerable_card,
	assigned_to_count,
	column_totals,
	count,
	forecast_rows,
	group_by_count,
	grouped_totals,
	number_card,
	parse_filters,
	read_scope,
)
from opportunity_suite.services.totals.schema import DELTAS, DOCTYPE, TOTALS

__all__ = [
	"DELTAS",
	"DOCTYPE",
	"TOTALS",
	"Scope",
	"after_insert",
	"answerable_card",
	"assigned_to_count",
	"check",
	"column_totals",
	"count",
	"ensure_totals",
	"fold",
	"forecast_rows",
	"group_by_count",
	"grouped_totals",
	"number_card",
	"on_change",
	"on_rename",
	"on_todo_change",
	"parse_filters",
	"read_scope",
	"rebuild",
	"refresh",
	"refresh_forecast_range",
	"refresh_like",
	"refresh_range",
]
