"""The forecast formula as a SQL expression, so that the bulk recompute updates a million rows set-based
instead of reading each row into Python.

The SQL gives exactly what the Python path stores (`forecast.forecast_values`), or says it can't:
- arithmetic is done in DOUBLE, as Python does it: each field `CAST(... AS DOUBLE)` (a NULL is 0), the
  constants as DOUBLE literals, + - * / min max abs as IEEE operations; a division by zero makes the
  whole value NULL (`NULLIF`), and NULL is 0, as `CompiledFormula.evaluate` gives 0;
- a result too large for a DOUBLE is an error in MariaDB (a NaN or infinity in Python, which logs it and
  gives 0): the caller falls back to Python for that batch;
- the rounding is Frappe's own (`frappe.utils.data.rounded`), over D = value × 10^p as a double, at
  the site's method: "Banker's Rounding" (v15's default: `round(D, 12)`, then ties within Frappe's
  epsilon to even) and "Banker's Rounding (legacy)" (`round(D, 8)`, then half up; exactly
  `FLOOR(E + 0.500000005)` over E, D's exact binary value, which never equals that boundary). MariaDB
  turns a DOUBLE into a DECIMAL through its shortest decimal form S, which may differ from E by half an
  ulp: a row whose S lies that close to a rounding boundary is *unsure* and is computed by the Python
  path (a fraction of a percent of ordinary rows), as is a row whose value reaches what the columns hold
  (Python logs those). An exact tie (a fraction of .5: the half cent) is exact in both and settled in SQL.
  Most rows don't need S: a D whose fraction is clear of .5 (by more than every method's window) rounds
  to the nearest integer whatever the method, in DOUBLE arithmetic, which is exact below 2^52.
The write is one UPDATE per range of primary keys (`update_statement`), one pass over the rows: the steps
are kept in the connection's user variables so each is computed once per row, a row whose values don't
change is not written, and the unsure rows keep their values and are named for Python. `modified` is
not touched, as on the Python path: a recompute is not an edit.
What SQL doesn't express falls back to Python entirely (`to_sql` returns None): `round()` in the formula
(Python rounds the exact binary value half-to-even, MariaDB doesn't) and "Commercial Rounding" (its
epsilon is a `log2` that MariaDB computes differently). tests/test_formula_sql.py compares the two paths
row by row on edge and random values, for each method and precision."""

import ast
import json
import re
from dataclasses import dataclass

import frappe

from opportunity_suite.services.field_checks import DECIMAL_LIMIT

LEGACY_ROUNDING = "Banker's Rounding (legacy)"
BANKERS_ROUNDING = "Banker's Rounding"
_FIELD = re.compile(r"^[a-z_][a-z0-9_]*$")
_FUNCTIONS = {"min": "LEAST", "max": "GREATEST", "abs": "ABS"}
_OPERATORS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*"}
# |S - E| <= ulp(D) / 2 <= |D| * 2**-53 (1.1102e-16)
_ULP_MARGIN = "1.111e-16"
# beyond this a DOUBLE is not turned into a DECIMAL here (and the value is far past DECIMAL_LIMIT)
_CASTABLE = "1e20"


# the per-row steps live in this connection's user variables, so that each value is computed once per row
_D, _FRACTION, _EXACT, _S, _F = "@os_fc_d", "@os_fc_fraction", "@os_fc_exact", "@os_fc_s", "@os_fc_f"
_UNSURE, _NAMES = "@os_fc_unsure", "@os_fc_names"
# a user variable's type is fixed when a statement is prepared, from the value it holds then: each is
# given a value of its type by a statement of its own before the UPDATE reads it
_TYPED = (
	f"SET {_D} = 0e0, {_FRACTION} = 0e0, {_EXACT} = 0, {_S} = CAST(0 AS DECIMAL(48, 26)), "
	f"{_F} = CAST(0 AS DECIMAL(48, 9)), {_UNSURE} = 0, {_NAMES} = ''"
)
# D's fraction this far from .5 (more than every method's window around it): D rounds to the nearest
# integer, in DOUBLE arithmetic, exactly below 2^52 (where DOUBLE holds every integer and fraction)
_CLEAR = "0.000001"
_CLEAR_RELATIVE = "1e-15"
_DOUBLE_INTEGERS = 2.0**52


@dataclass(frozen=True)
class SqlForecast:
	"""The formula's value over `tabOpportunity` aliased `o` (a DOUBLE), and the rounding to reproduce."""

	value: str
	precision: int
	rounding: str


@dataclass(frozen=True)
class RangeResult:
	"""What `update_range` did: the rows it wrote (their values changed) and the names of the rows it
	left to Python."""

	written: int
	unsure: list[str]


def to_sql(formula_text: str, fields: frozenset[str], precision: int, rounding: str) -> SqlForecast | None:
	"""The formula's SQL form, or None when the formula or the rounding method can't be reproduced exactly.
	`formula_text` must be a formula that `formula.compile_formula` accepted (parsed again here, never run)."""
	if (
		rounding not in (LEGACY_ROUNDING, BANKERS_ROUNDING)
		or not 0 <= precision <= 9
		or not all(_FIELD.match(f) for f in fields)
	):
		return None
	try:
		value = _expression(ast.parse(formula_text, mode="eval").body, fields)
	except _NotExpressible:
		return None
	# NULL (a division by zero) is 0; `+ 0e0` keeps a lone field's DOUBLE type
	return SqlForecast(value=f"COALESCE(({value}) + 0e0, 0e0)", precision=precision, rounding=rounding)


def update_statement(sql: SqlForecast) -> str:
	"""One UPDATE of forecast and base forecast for the opportunities `o` with `%(after)s < name <=
	%(last)s`: one pass over the rows, in primary-key order, each value computed once. (Not `ORDER BY
	name LIMIT n`: MariaDB collects such rows first and reads each again, a second pass.)

	A row whose values don't change is not written (MariaDB compares the row and skips it). A row SQL
	can't settle keeps both values and its name is appended to the user variable `_NAMES` (a JSON list
	without its brackets) for Python to finish. `modified` is left alone. Raises MariaDB's out-of-range error (1690) when the
	arithmetic overflows a DOUBLE; the statement then changed nothing."""
	scale = _literal(10**sql.precision)
	rate = "COALESCE(NULLIF(CAST(o.`exchange_rate` AS DOUBLE), 0e0), 1e0)"
	forecast, forecast_unsure = _rounding(sql.precision, sql.rounding, f"({sql.value}) * {scale}")
	# the base: flt(forecast * rate, precision), where F (the rounded forecast) is computed first
	base, base_unsure = _rounding(
		sql.precision, sql.rounding, f"(CAST(({_F} := {forecast}) AS DOUBLE) * {rate}) * {scale}"
	)
	# kept as it is, the row's name noted (LENGTH(...) is never 0: both branches are the old value)
	keep_and_note = (
		f"IF(LENGTH({_NAMES} := CONCAT({_NAMES}, ',', JSON_QUOTE(o.name))), "
		"o.base_forecast_amount, o.base_forecast_amount)"
	)
	# MariaDB evaluates the SET list in order, the operands of AND and OR left to right (the second only
	# when the first doesn't settle it) and an IF's condition before its branch. The forecast's condition
	# computes the forecast's D and whether it is unsure, then F and from it the base's D and whether that
	# is unsure; the base's branch rounds its D. A row unsure in either keeps both values. No assignment
	# reads a column another one sets: the same under SIMULTANEOUS_ASSIGNMENT.
	return f"""UPDATE `tabOpportunity` o SET
		o.forecast_amount = IF({_UNSURE} := (({forecast_unsure}) OR ({base_unsure})), o.forecast_amount, {_F}),
		o.base_forecast_amount = IF({_UNSURE}, {keep_and_note}, {base})
		WHERE o.name > %(after)s AND o.name <= %(last)s"""


def update_range(sql: SqlForecast, after: str, last: str, statement: str | None = None) -> RangeResult:
	"""Run `update_statement` for the opportunities after `after` up to `last` in name order, in the
	caller's transaction. Raw SQL: the expressions are built from the checked formula's tree, never from
	input; the bounds are parameters; frappe.qb has no user variables."""
	frappe.db.sql(_TYPED)
	frappe.db.sql(statement or update_statement(sql), {"after": after, "last": last})
	written = frappe.db._cursor.rowcount
	names = frappe.db.sql(f"SELECT {_NAMES}")[0][0] or ""
	return RangeResult(written=written, unsure=json.loads(f"[{names[1:]}]"))


class _NotExpressible(Exception):
	pass


def _literal(number: float) -> str:
	text = repr(float(number))
	return text if "e" in text else text + "e0"  # an exponent makes it a DOUBLE literal


def _expression(node: ast.AST, fields: frozenset[str]) -> str:
	if isinstance(node, ast.Constant):
		return _literal(node.value)
	if isinstance(node, ast.Name):
		if node.id not in fields:
			raise _NotExpressible(node.id)
		return f"COALESCE(CAST(o.`{node.id}` AS DOUBLE), 0e0)"
	if isinstance(node, ast.UnaryOp):
		operand = _expression(node.operand, fields)
		if isinstance(node.op, ast.USub):
			return f"(-{operand})"
		if isinstance(node.op, ast.UAdd):
			return operand
	if isinstance(node, ast.BinOp):
		left, right = _expression(node.left, fields), _expression(node.right, fields)
		if isinstance(node.op, ast.Div):
			return f"({left} / NULLIF({right}, 0e0))"
		if type(node.op) in _OPERATORS:
			return f"({left} {_OPERATORS[type(node.op)]} {right})"
	if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _FUNCTIONS:
		args = ", ".join(_expression(arg, fields) for arg in node.args)
		return f"{_FUNCTIONS[node.func.id]}({args})"
	raise _NotExpressible(type(node).__name__)


def _rounding(precision: int, method: str, scaled: str) -> tuple[str, str]:
	"""(the DECIMAL that `flt(value, precision, method)` stores, whether that DECIMAL is not certain) for
	the double D = `scaled` (value × 10^p). The second is evaluated first and assigns the variables the
	first reads. A D whose fraction is clear of .5 is rounded in DOUBLE (the nearest integer, exact);
	else (`_EXACT`) over S, its shortest decimal, by the method's own rule."""
	limit = (DECIMAL_LIMIT - 1) * 10**precision
	step = "1" if precision == 0 else "0." + "0" * (precision - 1) + "1"  # R × 10^-p exactly, as a DECIMAL
	clear = (
		f"ABS(({_FRACTION} := ({_D} := {scaled}) - FLOOR({_D})) - 0.5) > {_CLEAR} + ABS({_D}) * {_CLEAR_RELATIVE}"
		f" AND ABS({_D}) < {_literal(min(limit, _DOUBLE_INTEGERS))}"
	)
	nearest = f"CAST(FLOOR({_D}) + ({_FRACTION} > 0.5) AS DECIMAL(40, 0)) * {step}"
	rounded, unsure = _exact_rounding(precision, method, step)
	too_large = f"ABS({_D}) >= {_literal(limit)}"
	return (
		f"IF({_EXACT}, {rounded}, {nearest})",
		f"IF({clear}, {_EXACT} := 0, ({_EXACT} := 1) AND (({unsure}) OR ({too_large})))",
	)


def _exact_rounding(precision: int, method: str, step: str) -> tuple[str, str]:
	"""The rounded DECIMAL and whether it is unsure, over D and S; the second is evaluated first and its
	first operand assigns S."""
	first_fraction = (
		f"(({_S} := CAST(IF(ABS({_D}) < {_CASTABLE}, {_D}, 0e0) AS DECIMAL(48, 26))) - FLOOR({_S}))"
	)
	fraction = f"({_S} - FLOOR({_S}))"
	# Python's `floor % 2 == 0`, negatives too
	even = f"IF(MOD(FLOOR({_S}), 2) = 0, FLOOR({_S}), FLOOR({_S}) + 1)"
	# a fraction of exactly .5 is exact (k + 0.5 is a double, so S = E): the common half-cent tie is settled
	if method == BANKERS_ROUNDING:
		# round(D, 12); within Frappe's epsilon (|D| × 2^-52) of k + 0.5: to even, else to the nearest
		unsure = f"{first_fraction} <> 0.5 AND ABS({fraction} - 0.5) <= 0.000000000001 + ABS({_D}) * 5e-16"
		return f"(IF({fraction} = 0.5, {even}, ROUND({_S}, 0)) * {step})", unsure
	near = f"ABS({_D}) * {_ULP_MARGIN}"
	if precision == 0:
		# round(D, 8), then ties to even; a D within the 8th decimal of k + 0.5 (but not on it) is Python's
		unsure = f"{first_fraction} <> 0.5 AND ABS({fraction} - 0.5) <= 0.000000006 + {near}"
		return f"IF({fraction} = 0.5, {even}, ROUND({_S}, 0))", unsure
	# round(D, 8), then half up: FLOOR(E + 0.500000005)
	whole = f"FLOOR({_S} + 0.500000005)"
	gap = f"LEAST({_S} + 0.500000005 - {whole}, {whole} + 0.499999995 - {_S})"
	unsure = f"{first_fraction} <> 0.5 AND {gap} <= {near} + 1e-25"
	return f"({whole} * {step})", unsure
