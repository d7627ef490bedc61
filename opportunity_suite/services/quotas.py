"""Sales Quota: a user's target for a month or a quarter in the default currency, and the quota of a period
as the forecast report reads it. A team's quota is the sum of its members' (services/visibility.team_of:
the user and everyone reporting to them through User.reports_to)."""

import frappe
from frappe import _
from frappe.utils import add_months, flt, get_first_day, getdate

from opportunity_suite.services.forecast import get_settings

DOCTYPE = "Sales Quota"


class QuotaError(frappe.ValidationError):
	pass


class DuplicateQuotaError(QuotaError):
	pass


def quarter_start(day):
	day = getdate(day)
	return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)


def period_start(day, period_type: str):
	return quarter_start(day) if period_type == "Quarter" else get_first_day(day)


def validate_quota(doc):
	if doc.period_type not in ("Month", "Quarter"):
		frappe.throw(_("Period must be Month or Quarter."), exc=QuotaError)
	if flt(doc.amount) < 0:
		frappe.throw(_("A quota can't be negative."), exc=QuotaError)
	doc.period_start = period_start(doc.period_start, doc.period_type)
	doc.currency = get_settings().default_currency or doc.currency
	other = frappe.db.exists(
		DOCTYPE,
		{
			"user": doc.user,
			"period_type": doc.period_type,
			"period_start": doc.period_start,
			"name": ("!=", doc.name or ""),
		},
	)
	if other:
		frappe.throw(
			_("{0} already has a quota for the {1} starting {2}: {3}.").format(
				doc.user, _(doc.period_type).lower(), frappe.format(doc.period_start, "Date"), other
			),
			exc=DuplicateQuotaError,
		)


def quotas(users: list[str] | None, from_date, to_date, period: str) -> dict[tuple[str, object], float]:
	"""(user, first day of the month or quarter) → quota, for the periods from from_date to to_date.

	By month: the month's quota, else a third of its quarter's. By quarter: the quarter's quota, else the
	sum of its months'."""
	first = quarter_start(from_date)
	last = getdate(to_date)
	filters = {"period_start": ("between", (first, last))}
	if users is not None:
		if not users:
			return {}
		filters["user"] = ("in", users)
	# get_list: the reader's own view of the quotas (with private visibility, their team's: visibility.py)
	rows = frappe.get_list(
		DOCTYPE,
		filters=filters,
		fields=["user", "period_type", "period_start", "amount"],
		limit_page_length=0,
	)
	months: dict[tuple, float] = {}
	quarters: dict[tuple, float] = {}
	for row in rows:
		target = quarters if row.period_type == "Quarter" else months
		target[(row.user, getdate(row.period_start))] = flt(row.amount)
	result: dict[tuple, float] = {}
	if period == "Quarter":
		for (user, start), amount in quarters.items():
			result[(user, start)] = amount
		for (user, start), amount in months.items():
			key = (user, quarter_start(start))
			if key not in quarters:
				result[key] = result.get(key, 0.0) + amount
	else:
		result.update(months)
		for (user, start), amount in quarters.items():
			for offset in range(3):
				month = getdate(add_months(start, offset))
				result.setdefault((user, month), amount / 3)
	low = period_start(from_date, period)
	return {key: amount for key, amount in result.items() if low <= key[1] <= last}
