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
What SQL doesn't express falls back to Python entirely (`to_sql` returns None): `round()` in the formula
(Python rounds the exact binary value half-to-even, MariaDB doesn't) and "Commercial Rounding" (its
epsilon is a `log2` that MariaDB computes differently). tests/test_formula_sql.py compares the two paths
row by row on edge and random values, for each method and precision."""

import ast
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


STAGE = "`_opportunity_suite_forecast_stage`"


@dataclass(frozen=True)
class SqlForecast:
	"""The formula's value over `tabOpportunity` aliased `o` (a DOUBLE), and the rounding to reproduce."""

	value: str
	precision: int
	rounding: str


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


def stage(sql: SqlForecast, where: str, params: dict) -> int:
	"""Compute forecast and base forecast for the opportunities `o` matching `where` into the STAGE table
	(this connection's own temporary table): name, f, b and `unsure` (1: Python must compute that row).
	Each value is computed once per row, a step per assignment, so that no expression is repeated. Raises
	MariaDB's out-of-range error (1690) when the arithmetic overflows a DOUBLE. Returns the rows staged."""
	frappe.db.sql(
		f"""CREATE TEMPORARY TABLE IF NOT EXISTS {STAGE} (
			name VARCHAR(140) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci NOT NULL PRIMARY KEY,
			rate DOUBLE, d DOUBLE, s DECIMAL(48, 26),
			f DECIMAL(48, 9), b DECIMAL(48, 9), unsure TINYINT NOT NULL DEFAULT 0
		)"""
	)
	frappe.db.sql(f"DELETE FROM {STAGE}")
	scale = _literal(10**sql.precision)
	frappe.db.sql(
		f"""INSERT INTO {STAGE} (name, rate, d)
		SELECT o.name, COALESCE(NULLIF(CAST(o.`exchange_rate` AS DOUBLE), 0e0), 1e0), ({sql.value}) * {scale}
		FROM `tabOpportunity` o WHERE {where}""",
		params,
	)
	staged = frappe.db._cursor.rowcount
	rounded, unsure = _rounding(sql.precision, sql.rounding)
	shortest = f"CAST(IF(ABS(d) < {_CASTABLE}, d, 0e0) AS DECIMAL(48, 26))"
	assignments = [
		f"s = {shortest}",
		f"f = {rounded}",
		f"unsure = ({unsure})",
		f"d = (CAST(f AS DOUBLE) * rate) * {scale}",  # the base: flt(forecast * rate, precision)
		f"s = {shortest}",
		f"b = {rounded}",
		f"unsure = unsure OR ({unsure})",
	]
	# MariaDB assigns left to right, each assignment seeing the ones before it (one pass over the rows);
	# under the SIMULTANEOUS_ASSIGNMENT mode it doesn't, and each step is a statement of its own
	if "SIMULTANEOUS_ASSIGNMENT" in (frappe.db.sql("SELECT @@SESSION.sql_mode")[0][0] or ""):
		for assignment in assignments:
			frappe.db.sql(f"UPDATE {STAGE} SET {assignment}")
	else:
		frappe.db.sql(f"UPDATE {STAGE} SET {', '.join(assignments)}")
	return staged


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


def _rounding(precision: int, method: str) -> tuple[str, str]:
	"""Over the STAGE columns d (the scaled double D) and s (its shortest decimal S): (the DECIMAL that
	`flt(value, precision, method)` stores, whether that DECIMAL is not certain)."""
	limit = _literal((DECIMAL_LIMIT - 1) * 10**precision)
	fraction = "(s - FLOOR(s))"
	too_large = f"ABS(d) >= {limit}"
	even = "IF(MOD(FLOOR(s), 2) = 0, FLOOR(s), FLOOR(s) + 1)"  # Python's `floor % 2 == 0`, negatives too
	step = "1" if precision == 0 else "0." + "0" * (precision - 1) + "1"  # R × 10^-p exactly, as a DECIMAL
	# a fraction of exactly .5 is exact (k + 0.5 is a double, so S = E): the common half-cent tie is settled
	if method == BANKERS_ROUNDING:
		# round(D, 12); within Frappe's epsilon (|D| × 2^-52) of k + 0.5: to even, else to the nearest
		unsure = f"{fraction} <> 0.5 AND ABS({fraction} - 0.5) <= 0.000000000001 + ABS(d) * 5e-16"
		return f"(IF({fraction} = 0.5, {even}, ROUND(s, 0)) * {step})", f"({too_large}) OR ({unsure})"
	near = f"ABS(d) * {_ULP_MARGIN}"
	if precision == 0:
		# round(D, 8), then ties to even; a D within the 8th decimal of k + 0.5 (but not on it) is Python's
		unsure = f"{fraction} <> 0.5 AND ABS({fraction} - 0.5) <= 0.000000006 + {near}"
		return f"IF({fraction} = 0.5, {even}, ROUND(s, 0))", f"({too_large}) OR ({unsure})"
	# round(D, 8), then half up: FLOOR(E + 0.500000005)
	whole = "FLOOR(s + 0.500000005)"
	gap = f"LEAST(s + 0.500000005 - {whole}, {whole} + 0.499999995 - s)"
	unsure = f"{fraction} <> 0.5 AND {gap} <= {near} + 1e-25"
	return f"({whole} * {step})", f"({too_large}) OR ({unsure})"
