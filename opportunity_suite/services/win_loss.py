"""Lost reasons and competitors: the Win/Loss report (closed deals by loss reason, competitor, owner, lead
source or size band: won and lost counts and default-currency amounts, win rates, a chart), and the
migration of the free-text lost reasons of the past to Lost Reason records."""

from decimal import Decimal
from math import fsum

import frappe
from frappe import _
from frappe.query_builder import Case
from frappe.query_builder.functions import Count, Sum
from frappe.query_builder.utils import PseudoColumn
from frappe.utils import flt, get_first_day, getdate, today

from opportunity_suite.services import totals
from opportunity_suite.services.forecast import get_settings
from opportunity_suite.services.forecast_report import ReportFilterError, permission_conditions

DOCTYPE = "Opportunity"
COMPETITOR_ROW = "Opportunity Competitor"
# dimension → (label, the Link's DocType or None)
DIMENSIONS = {
	"Loss Reason": ("Loss Reason", "Lost Reason"),
	"Competitor": ("Competitor", "Competitor"),
	"Assigned To": ("Assigned To", "User"),
	"Lead Source": ("Lead Source", "Lead Source"),
	"Size Band": ("Size Band", None),
}
# size bands of the default-currency amount: (lower bound, label)
SIZE_BANDS = (
	(100000, "100,000 and more"),
	(50000, "50,000 – 99,999"),
	(10000, "10,000 – 49,999"),
	(0, "Under 10,000"),
)


def normalise_filters(filters: dict | None) -> frappe._dict:
	filters = frappe._dict(filters or {})
	filters.dimension = filters.get("dimension") or "Loss Reason"
	if filters.dimension not in DIMENSIONS:
		frappe.throw(
			_("Group By must be one of {0}.").format(", ".join(_(d) for d in DIMENSIONS)),
			exc=ReportFilterError,
		)
	filters.from_date = getdate(filters.get("from_date") or get_first_day(today()).replace(month=1))
	filters.to_date = getdate(filters.get("to_date") or today())
	if filters.from_date > filters.to_date:
		frappe.throw(_("Closed From must not be after Closed To."), exc=ReportFilterError)
	return filters


def _size_band(amount):
	case = Case()
	for low, label in SIZE_BANDS[:-1]:
		case = case.when(amount >= low, label)
	return case.else_(SIZE_BANDS[-1][1])


def query_groups(filters) -> list[dict]:
	"""(group, status) → count and amount of the deals closed in the dates the user may read: from the summary
	of closed deals and its counted rows (services/outcome_totals.py), or, for a user those can't answer for,
	the report's own query."""
	from opportunity_suite.services import outcome_totals

	rows = outcome_totals.win_loss_groups(filters)
	if rows is None:
		return _query(filters, permission_conditions())
	# one row per group, its amount added up exactly (the parts' sums as text, added as decimals: as one SUM
	# would; Frappe reads a DECIMAL as a float, and floats added in another order differ in the last digit)
	merged: dict[tuple, frappe._dict] = {}
	for row in rows:
		key = (row.grouped or "", row.status)
		if key not in merged:
			merged[key] = frappe._dict(grouped=row.grouped, status=row.status, deals=0, amount=None)
		out = merged[key]
		out.deals += row.deals
		if row.amount is not None:
			out.amount = Decimal(row.amount) + (out.amount or 0)
	# a group the summary counted and a waiting delta took out again adds up to no deal: the query has no row
	return [row for row in merged.values() if row.deals]


def _query(filters, conditions: list[str]) -> list[dict]:
	"""The report's own query over the deals closed in its dates that match `conditions` (SQL on
	`tabOpportunity`)."""
	opp = frappe.qb.DocType(DOCTYPE)
	query = frappe.qb.from_(opp)
	if filters.dimension == "Competitor":
		row = frappe.qb.DocType(COMPETITOR_ROW)
		query = query.left_join(row).on(
			(row.parent == opp.name) & (row.parenttype == DOCTYPE) & (row.parentfield == "competitors")
		)
		group = row.competitor
	elif filters.dimension == "Size Band":
		group = _size_band(opp.base_amount)
	else:
		group = opp[
			{"Loss Reason": "loss_reason", "Assigned To": "assigned_to"}.get(filters.dimension, "lead_source")
		]
	query = (
		query.select(
			group.as_("grouped"), opp.status, Count(opp.name).as_("deals"), Sum(opp.base_amount).as_("amount")
		)
		.where(opp.status.isin(["Won", "Lost"]) & opp.closed_on[filters.from_date : filters.to_date])
		.groupby(group, opp.status)
	)
	for field in ("assigned_to", "lead_source"):
		if filters.get(field):
			query = query.where(opp[field] == filters.get(field))
	for condition in conditions:
		query = query.where(PseudoColumn(f"({condition})"))
	return query.run(as_dict=True)


def run(filters: dict | None = None):
	filters = normalise_filters(filters)
	currency = get_settings().default_currency
	rows = _rows(query_groups(filters), currency)
	if not rows:
		return columns(filters), [], None, chart(rows), summary(None), True
	total = total_row(filters, rows, currency)
	# the last row is the total, each deal counted once (Frappe's would add up the rows: by competitor a
	# deal is in a row per competitor); the report's script shows it as the table's total row
	return columns(filters), [*rows, total], None, chart(rows), summary(total), True


def _rows(groups: list[dict], currency: str) -> list[dict]:
	"""The report's rows of `query_groups` answers: won and lost counts, amounts and rates per group."""
	out: dict[str, dict] = {}
	for row in groups:
		key = row.grouped or ""
		group = out.setdefault(
			key,
			{
				"grouped": key or None,
				"won": 0,
				"won_amount": 0.0,
				"lost": 0,
				"lost_amount": 0.0,
				"currency": currency,
			},
		)
		prefix = "won" if row.status == "Won" else "lost"
		group[prefix] += row.deals
		group[f"{prefix}_amount"] += flt(row.amount)
	rows = sorted(out.values(), key=lambda r: (-(r["won"] + r["lost"]), r["grouped"] or ""))
	for row in rows:
		row["label"] = _(row["grouped"]) if row["grouped"] else _("(none)")
		_add_rates(row)
	return rows


def _add_rates(row: dict) -> None:
	closed, closed_amount = row["won"] + row["lost"], row["won_amount"] + row["lost_amount"]
	row["win_rate"] = row["won"] / closed * 100 if closed else None
	row["win_rate_amount"] = row["won_amount"] / closed_amount * 100 if closed_amount else None


def total_row(filters, rows: list[dict], currency: str) -> dict:
	"""The deals of `rows` (the report's rows by `filters.dimension`) added up with each deal once: by
	competitor a deal is in a row per competitor (or in "(none)"), so its total adds up the rows by loss
	reason instead (every closed deal is in one of those); by any other dimension, the rows themselves.
	Amounts are added up exactly rounded (`fsum`), so the same rows give the same total in any order."""
	if filters.dimension == "Competitor":
		rows = _rows(query_groups(frappe._dict(filters, dimension="Loss Reason")), currency)
	total = {
		"grouped": _("Total"),
		"label": _("Total"),
		"won": sum(r["won"] for r in rows),
		"won_amount": fsum(r["won_amount"] for r in rows),
		"lost": sum(r["lost"] for r in rows),
		"lost_amount": fsum(r["lost_amount"] for r in rows),
		"currency": currency,
		"is_total_row": 1,
	}
	_add_rates(total)
	return total


def columns(filters) -> list[dict]:
	label, link = DIMENSIONS[filters.dimension]
	money = {"fieldtype": "Currency", "options": "currency", "width": 140}
	group = (
		{"fieldname": "grouped", "fieldtype": "Link", "options": link}
		if link
		else {"fieldname": "label", "fieldtype": "Data"}
	)
	return [
		{**group, "label": _(label), "width": 200},
		{"fieldname": "won", "label": _("Won"), "fieldtype": "Int", "width": 80},
		{"fieldname": "won_amount", "label": _("Won Amount"), **money},
		{"fieldname": "lost", "label": _("Lost"), "fieldtype": "Int", "width": 80},
		{"fieldname": "lost_amount", "label": _("Lost Amount"), **money},
		# a rate's total is no mean of the rows' (Frappe's for Percent): the total row has the true one
		{
			"fieldname": "win_rate",
			"label": _("Win Rate (%)"),
			"fieldtype": "Percent",
			"width": 110,
			"disable_total": 1,
		},
		{
			"fieldname": "win_rate_amount",
			"label": _("Win Rate by Amount (%)"),
			"fieldtype": "Percent",
			"width": 160,
			"disable_total": 1,
		},
		{
			"fieldname": "currency",
			"label": _("Currency"),
			"fieldtype": "Link",
			"options": "Currency",
			"hidden": 1,
		},
	]


def chart(rows: list[dict]) -> dict:
	shown = rows[:20]
	return {
		"data": {
			"labels": [r["label"] for r in shown],
			"datasets": [
				{"name": _("Won"), "values": [r["won"] for r in shown]},
				{"name": _("Lost"), "values": [r["lost"] for r in shown]},
			],
		},
		"type": "bar",
		"colors": ["#29cd42", "#ff5858"],
	}


def summary(total: dict | None) -> list[dict]:
	"""The report's cards: the total row's won and lost deals and win rate (each deal once)."""
	won, lost = (total["won"], total["lost"]) if total else (0, 0)
	return [
		{"label": _("Won"), "value": won, "datatype": "Int", "indicator": "Green"},
		{"label": _("Lost"), "value": lost, "datatype": "Int", "indicator": "Red"},
		{
			"label": _("Win Rate (%)"),
			"value": flt(won / (won + lost) * 100, 1) if won + lost else 0,
			"datatype": "Percent",
			"indicator": "Blue",
		},
	]


def classify_stored_lost_reasons():
	"""Each lost deal with a free-text reason and no Loss Reason gets the record its text names (MariaDB
	compares names case-insensitively, trailing spaces ignored), else Other; the text stays as the detail.
	Idempotent: deals that have a Loss Reason are left alone."""
	from opportunity_suite.services.picklists import add_value, ensure_default_values

	ensure_default_values()
	opp = frappe.qb.DocType(DOCTYPE)
	texts = (
		frappe.qb.from_(opp)
		.select(opp.lost_reason)
		.distinct()
		.where(
			(opp.status == "Lost")
			& (opp.loss_reason.isnull() | (opp.loss_reason == ""))
			& opp.lost_reason.isnotnull()
			& (opp.lost_reason != "")
		)
		.run(pluck=True)
	)
	if texts and not frappe.db.exists("Lost Reason", "Other"):
		add_value("Lost Reason", "Other")
	for text in texts:
		reason = frappe.db.get_value("Lost Reason", {"name": text.strip()[:140]}, "name") or "Other"
		changed = (
			frappe.qb.from_(opp)
			.select(opp.name)
			.where(
				(opp.status == "Lost")
				& (opp.lost_reason == text)
				& (opp.loss_reason.isnull() | (opp.loss_reason == ""))
			)
			.run(pluck=True)
		)
		(
			frappe.qb.update(opp)
			.set(opp.loss_reason, reason)
			.where(
				(opp.status == "Lost")
				& (opp.lost_reason == text)
				& (opp.loss_reason.isnull() | (opp.loss_reason == ""))
			)
			.run()
		)
		totals.refresh(changed)  # a raw SQL writer: the summaries (services/totals/)
