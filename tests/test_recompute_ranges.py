"""The SQL path of the bulk recompute (services/formula_sql.update_range, one UPDATE per primary-key
range): the ranges cover every row once in name order, rows whose values don't change are not written,
rows SQL can't settle are named (whatever their names hold) and finished in Python, an overflow changes
nothing and sends the batch to Python; and the recompute has the same side effects through both paths
(none on the deal but its two forecast columns: not `modified`, no history row, no stale flag, no alert)."""

import frappe
import pytest

from opportunity_suite.services import formula_sql, recompute
from opportunity_suite.services.forecast import (
	DEFAULT_FORMULA,
	currency_precision,
	forecast_values,
	formula_fields,
	get_compiled_formula,
)
from opportunity_suite.services.forecast import _rounding_method as rounding_method
from opportunity_suite.services.history import DOCTYPE as HISTORY
from tests.alerts_fixtures import alert_logs, make_rule
from tests.factories import delete_bulk_opportunities, make_opportunity

SETTINGS = "Opportunity Settings"
# names that sort apart in the table's collation and that a list of names must carry as they are
ODD_NAMES = ['q"uote', "com,ma", "back\\slash", "café", "tab\tbed", "[bracket]"]


def _sql(text: str = DEFAULT_FORMULA) -> formula_sql.SqlForecast:
	return formula_sql.to_sql(text, formula_fields(), 2, formula_sql.BANKERS_ROUNDING)


def _insert(rows: list[tuple[str, object, object]]):
	"""(name, amount, probability) rows straight into the table, exchange rate 1, stale forecasts (-1)."""
	frappe.db.sql(
		"""INSERT INTO `tabOpportunity` (name, creation, modified, owner, modified_by, opportunity_name,
			amount, probability, exchange_rate, currency, sales_stage, status, forecast_amount,
			base_forecast_amount)
		VALUES """
		+ ", ".join(
			[
				"(%s, '2020-01-01', '2020-01-01', 'Administrator', 'Administrator', %s, %s, %s, 1, 'USD', "
				"'Prospecting', 'Open', -1, -1)"
			]
			* len(rows)
		),
		[value for name, amount, probability in rows for value in (name, name, amount, probability)],
	)


def _stored(prefix: str) -> dict[str, tuple]:
	return {
		row[0]: tuple(row[1:])
		for row in frappe.db.sql(
			"""SELECT name, forecast_amount, base_forecast_amount, modified FROM `tabOpportunity`
			WHERE name LIKE %s""",
			(prefix + "-%",),
		)
	}


@pytest.fixture
def prefix():
	prefix = "RNG" + frappe.generate_hash(length=5).upper()
	yield prefix
	frappe.db.rollback()
	delete_bulk_opportunities(prefix)


def test_ranges_go_through_every_row_once_in_name_order(prefix):
	names = [f"{prefix}-{i:03d}" for i in range(25)] + [f"{prefix}-{name}" for name in ODD_NAMES]
	_insert([(name, 100 + i, 50) for i, name in enumerate(names)])
	in_order = frappe.db.sql(
		"SELECT name FROM `tabOpportunity` WHERE name LIKE %s ORDER BY name", (prefix + "-%",), pluck=True
	)
	sql, after, seen, done = _sql(), prefix + "-", [], 0
	while done < len(names):  # (the last range no longer than the rows left: the table goes on after them)
		last, count = recompute._range_end(after, min(7, len(names) - done))
		result = formula_sql.update_range(sql, after, last)
		assert result.written == count  # every row was stale
		seen.append((count, last))
		after, done = last, done + count
	sizes = [7] * (len(names) // 7) + [len(names) % 7]
	assert seen == [(size, in_order[sum(sizes[: i + 1]) - 1]) for i, size in enumerate(sizes)]
	stored = _stored(prefix)
	assert all(stored[name][:2] == ((100 + i) / 2, (100 + i) / 2) for i, name in enumerate(names))


def test_rows_whose_values_do_not_change_are_not_written(prefix):
	_insert([(f"{prefix}-{i:03d}", 10 * i, 25) for i in range(20)])
	sql = _sql()
	assert formula_sql.update_range(sql, prefix + "-", f"{prefix}-019").written == 20
	# a third of them stale again: only those are written
	frappe.db.sql(
		"UPDATE `tabOpportunity` SET forecast_amount = -1 WHERE name LIKE %s AND amount %% 30 = 0",
		(prefix + "-%",),
	)
	again = formula_sql.update_range(sql, prefix + "-", f"{prefix}-019")
	assert (again.written, again.unsure) == (7, [])
	assert formula_sql.update_range(sql, prefix + "-", f"{prefix}-019").written == 0


def test_rows_sql_cannot_settle_are_named_left_alone_and_finished_in_python(prefix):
	"""A value past what the columns hold (12 nines × 150 %) is Python's to settle (it logs and stores 0);
	a tie blurred by the double's error (1.005 × 100 / 100 × 100 is 100.49999999999999) too."""
	odd = [f"{prefix}-{name}" for name in ODD_NAMES]
	_insert(
		[(name, 999999999999, 150) for name in odd]
		+ [(f"{prefix}-tie", 1.005, 100), (f"{prefix}-plain", 1000, 50)]
	)
	last = max(_stored(prefix))
	result = formula_sql.update_range(_sql(), prefix + "-", last)
	assert sorted(result.unsure) == sorted([*odd, f"{prefix}-tie"])
	assert result.written == 1
	stored = _stored(prefix)
	assert all(stored[name][:2] == (-1, -1) for name in result.unsure)  # both values kept for Python
	assert stored[f"{prefix}-plain"][:2] == (500, 500)
	# the recompute's batch at the site's rounding: SQL, then Python for the rows SQL leaves
	formula = get_compiled_formula(DEFAULT_FORMULA)
	precision, method = currency_precision(), rounding_method()
	site_sql = formula_sql.to_sql(DEFAULT_FORMULA, formula.fields, precision, method)
	statement = formula_sql.update_statement(site_sql)
	written = recompute._write_range_sql(site_sql, statement, formula, prefix + "-", last, len(odd) + 2)
	assert written == len(odd) + 1  # all but the plain row were stale
	rows = frappe.db.sql(
		"""SELECT name, amount, probability, exchange_rate, forecast_amount, base_forecast_amount
		FROM `tabOpportunity` WHERE name LIKE %s""",
		(prefix + "-%",),
		as_dict=True,
	)
	assert all(
		(row.forecast_amount, row.base_forecast_amount) == forecast_values(row, formula, precision, method)
		for row in rows
	)
	assert {(row.forecast_amount, row.base_forecast_amount) for row in rows if row.name in odd} == {(0, 0)}


@pytest.fixture
def formula():
	"""Set the forecast formula past the form (no job enqueued); the site's records as they were after."""
	before = frappe.db.get_single_value(SETTINGS, "forecast_formula")

	def use(text: str):
		frappe.db.set_single_value(SETTINGS, "forecast_formula", text)
		frappe.db.commit()

	yield use
	frappe.db.rollback()
	use(before)
	recompute.recompute_all_forecasts(publish=False)


def test_a_range_that_overflows_changes_nothing_and_its_batch_runs_in_python(prefix, formula):
	text = "amount * 1e200 * 1e200 + probability"
	_insert([(f"{prefix}-a", 0, 40), (f"{prefix}-b", 1, 40), (f"{prefix}-c", 0, 60)])
	frappe.db.commit()
	with pytest.raises(Exception) as error:
		formula_sql.update_range(_sql(text), prefix + "-", f"{prefix}-c")
	assert error.value.args[0] == recompute.OUT_OF_RANGE
	assert {values[:2] for values in _stored(prefix).values()} == {(-1, -1)}  # the row before it too
	frappe.db.rollback()
	formula(text)
	recompute.recompute_all_forecasts(publish=False)
	stored = _stored(prefix)
	assert stored[f"{prefix}-a"][:2] == (40, 40) and stored[f"{prefix}-c"][:2] == (60, 60)
	assert stored[f"{prefix}-b"][:2] == (0, 0)  # an infinity in Python: logged, 0, as on a save


def _deal_facts(name: str) -> dict:
	return {
		"deal": frappe.db.get_value(
			"Opportunity",
			name,
			["modified", "modified_by", "is_stale", "stale_reason", "stage_since"],
			as_dict=True,
		),
		"history": frappe.db.count(HISTORY, {"opportunity": name}),
		"versions": frappe.db.count("Version", {"ref_doctype": "Opportunity", "docname": name}),
	}


@pytest.mark.parametrize("use_sql", [True, False])
def test_the_recompute_changes_the_forecast_only_through_either_path(formula, use_sql):
	"""The Python path is the reference: a recompute is not an edit. `modified` stays (the list's order,
	an open form's save and "modified since" readers are not disturbed), no history row, no Version, the
	stale flag as it was, no alert rule fires; the settings count the rows and say Completed."""
	rule = make_rule(trigger="Every Save")
	deal = make_opportunity(amount=1000, probability=20)
	frappe.db.commit()
	try:
		before = _deal_facts(deal.name)
		assert frappe.db.get_value("Opportunity", deal.name, "forecast_amount") == 200
		formula("amount * probability / 100 + 7")
		updated = recompute.recompute_all_forecasts(publish=False, use_sql=use_sql)
		assert updated >= 1
		assert frappe.db.get_value("Opportunity", deal.name, "forecast_amount") == 207
		assert _deal_facts(deal.name) == before
		assert len(alert_logs(rule.name, reference_name=deal.name)) == 1  # its creation only
		state = recompute.read_state()
		assert state.last_recompute_status == "Completed"
		assert state.last_recompute_rows == updated
		assert state.recompute_done == state.recompute_total == frappe.db.count("Opportunity")
	finally:
		frappe.db.rollback()
		frappe.delete_doc("Opportunity", deal.name, force=True)
		frappe.delete_doc("Alert Rule", rule.name, force=True)
		frappe.db.commit()
