"""The forecast formula: a restricted arithmetic expression, checked and evaluated by our own code.

A formula is parsed with Python's `ast` module (parsing runs nothing) and only these nodes are accepted:
numbers, the names of the opportunity's number fields, + - * / and unary minus, parentheses, and calls of
min, max, round and abs. Anything else (attribute access, strings, subscripts, comparisons, other calls,
keyword arguments...) is refused. Evaluation walks the checked tree: no `eval`, no `safe_eval`.

At evaluation a value is read as Frappe's `flt` reads it (`as_number`: "1,000.50" is 1000.5, a missing
or unreadable value is 0), a division by zero makes the whole result 0 for that record, and so does any
other failure or a result that is not a finite number (that one is logged): a user's save never fails
because of the formula. Checking a formula also evaluates it over edge values (0, negative, huge,
missing) and refuses one that fails for any of them."""

import ast
import math
import operator
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal

import frappe
from frappe import _

MAX_FORMULA_LENGTH = 500
MAX_DEPTH = 30
# the values a formula is tried with before it is accepted (None: a missing value)
EDGE_VALUES = (0, None, 1, -1, 0.5, -0.5, 100, 1e12, -1e12, 1e300, -1e300)


class FormulaError(frappe.ValidationError):
	pass


class _DivisionByZero(Exception):
	pass


def _div(a: float, b: float) -> float:
	if b == 0:
		raise _DivisionByZero
	return a / b


def _round(value: float, digits: float = 0) -> float:
	return round(value, int(digits))  # a NaN or infinite `digits` raises: refused when checked


BINARY_OPERATORS: dict[type, Callable[[float, float], float]] = {
	ast.Add: operator.add,
	ast.Sub: operator.sub,
	ast.Mult: operator.mul,
	ast.Div: _div,
}
UNARY_OPERATORS: dict[type, Callable[[float], float]] = {ast.USub: operator.neg, ast.UAdd: operator.pos}
# name -> (function, least arguments, most arguments)
FUNCTIONS: dict[str, tuple[Callable[..., float], int, int]] = {
	"min": (min, 2, 20),
	"max": (max, 2, 20),
	"round": (_round, 1, 2),
	"abs": (abs, 1, 1),
}

Evaluator = Callable[[Mapping[str, float]], float]


@dataclass(frozen=True)
class CompiledFormula:
	text: str
	fields: frozenset[str]
	_evaluate: Evaluator

	def evaluate(self, values: Mapping[str, object]) -> float:
		"""The formula's value for one record; never raises. Missing values count as 0, a division by zero
		gives 0; any other failure, or a NaN or infinite result, gives 0 and is logged (once per request)."""
		numbers = {name: as_number(values.get(name)) for name in self.fields}
		try:
			result = float(self._evaluate(numbers))
		except _DivisionByZero:
			return 0.0
		except Exception as e:
			log_formula_failure(self.text, numbers, repr(e))
			return 0.0
		if not math.isfinite(result):
			log_formula_failure(self.text, numbers, repr(result))
			return 0.0
		return result

	def raw_evaluate(self, numbers: Mapping[str, float]) -> float:
		"""The formula's value, raising what it raises (a division by zero as ZeroDivisionError)."""
		try:
			return self._evaluate(numbers)
		except _DivisionByZero:
			raise ZeroDivisionError from None


def parse_number(value: object) -> float | None:
	"""A number as Frappe's `flt` reads it (commas dropped, so "1,000.50" is 1000.5), or None when `value`
	is not one (text that is no number, a dict, a bool...). NaN and infinities are returned as such: the
	caller decides. The formula and the field checks both read numbers through this function."""
	if isinstance(value, bool):
		return None
	if isinstance(value, str):
		value = value.replace(",", "").strip()
		if not value or len(value) > 100:
			return None
	elif not isinstance(value, int | float | Decimal):
		return None
	try:
		return float(value)
	except OverflowError:  # an int beyond float's range
		return math.copysign(math.inf, value)
	except ValueError:  # text that is no number, Decimal('sNaN')
		return None


def as_number(value: object) -> float:
	"""The value a formula computes with: `parse_number`, and 0 for a missing, unreadable or non-finite value."""
	if value is None or value == "":
		return 0.0
	number = parse_number(value)
	return number if number is not None and math.isfinite(number) else 0.0


def log_formula_failure(text: str, numbers: Mapping[str, float], error: str):
	"""Log a formula that fails for a record, once per formula per request (a recompute meets it per row)."""
	logged = getattr(frappe.local, "opportunity_suite_formula_failures", None)
	if logged is None:
		logged = frappe.local.opportunity_suite_formula_failures = set()
	if text in logged:
		return
	logged.add(text)
	frappe.log_error(
		title=_("Forecast formula failed for a record"),
		message=_("Formula {0} gave {1} for the values {2}; the forecast is 0 for that record.").format(
			text, error, dict(numbers)
		),
	)


def compile_formula(text: str, allowed_fields: set[str] | frozenset[str]) -> CompiledFormula:
	"""Check `text` and turn it into a CompiledFormula, or raise FormulaError saying what is wrong."""
	text = (text or "").strip()
	if not text:
		raise FormulaError(_("The forecast formula is empty."))
	if len(text) > MAX_FORMULA_LENGTH:
		raise FormulaError(
			_("The forecast formula is longer than {0} characters.").format(MAX_FORMULA_LENGTH)
		)
	try:
		tree = ast.parse(text, mode="eval")
	except SyntaxError as e:
		raise FormulaError(
			_("The forecast formula is not a valid expression (at character {0}).").format(e.offset or 0)
		) from None
	except (RecursionError, MemoryError, ValueError):
		raise FormulaError(_("The forecast formula is too complex.")) from None
	fields: set[str] = set()
	try:
		evaluate = _compile(tree.body, allowed_fields, fields, depth=0)
	except RecursionError:
		raise FormulaError(_("The forecast formula is nested too deeply.")) from None
	formula = CompiledFormula(text=text, fields=frozenset(fields), _evaluate=evaluate)
	_try_edge_values(formula)
	return formula


def _edge_cases(fields: frozenset[str]) -> Iterator[dict[str, object]]:
	"""Every field at each edge value, then each field alone at each edge value with the others at 1."""
	for value in EDGE_VALUES:
		yield dict.fromkeys(fields, value)
	for field in sorted(fields):
		for value in EDGE_VALUES:
			yield {**dict.fromkeys(fields, 1), field: value}


def _try_edge_values(formula: CompiledFormula):
	"""Refuse a formula that raises (other than dividing by zero, which gives 0) for an edge value."""
	for case in _edge_cases(formula.fields):
		numbers = {name: as_number(value) for name, value in case.items()}
		try:
			formula.raw_evaluate(numbers)
		except ZeroDivisionError:
			continue
		except Exception as e:
			shown = ", ".join(
				f"{name} = {'(empty)' if case[name] is None else case[name]}" for name in sorted(case)
			)
			raise FormulaError(
				_("The forecast formula fails for {0}: {1}").format(
					shown or _("any record"), type(e).__name__
				)
			) from None


def _constant(node: ast.AST) -> float | None:
	"""The value of a subtree that uses no field, or None when it depends on a field."""
	if isinstance(node, ast.Constant):
		return node.value
	if isinstance(node, ast.UnaryOp) and type(node.op) in UNARY_OPERATORS:
		inner = _constant(node.operand)
		return None if inner is None else UNARY_OPERATORS[type(node.op)](inner)
	if isinstance(node, ast.BinOp) and type(node.op) in BINARY_OPERATORS:
		left, right = _constant(node.left), _constant(node.right)
		if left is None or right is None:
			return None
		try:
			return BINARY_OPERATORS[type(node.op)](left, right)
		except _DivisionByZero:
			return math.nan
		except ArithmeticError:
			return None
	return None


def _compile(node: ast.AST, allowed: set[str] | frozenset[str], used: set[str], depth: int) -> Evaluator:
	if depth > MAX_DEPTH:
		raise FormulaError(_("The forecast formula is nested too deeply."))

	if isinstance(node, ast.Constant):
		value = node.value
		if isinstance(value, bool) or not isinstance(value, int | float):
			raise FormulaError(
				_("The forecast formula may only contain numbers, not {0}.").format(repr(value)[:40])
			)
		try:
			number = float(value)
		except OverflowError:
			number = math.inf
		if not math.isfinite(number) or abs(number) > 1e300:
			raise FormulaError(
				_("The number {0} in the forecast formula is too large.").format(str(value)[:40])
			)
		return lambda values: number

	if isinstance(node, ast.Name):
		name = node.id
		if name in FUNCTIONS:
			raise FormulaError(_("{0} is a function: call it with parentheses, like {0}(a, b).").format(name))
		if name not in allowed:
			raise FormulaError(
				_(
					"Unknown name {0} in the forecast formula. Use the opportunity's number fields: {1}."
				).format(name, ", ".join(sorted(allowed)))
			)
		used.add(name)
		return lambda values: values[name]

	if isinstance(node, ast.BinOp):
		op = BINARY_OPERATORS.get(type(node.op))
		if not op:
			raise FormulaError(_("Only + - * / are allowed in the forecast formula."))
		if isinstance(node.op, ast.Div) and _constant(node.right) == 0:
			raise FormulaError(_("The forecast formula always divides by zero."))
		left = _compile(node.left, allowed, used, depth + 1)
		right = _compile(node.right, allowed, used, depth + 1)
		return lambda values: op(left(values), right(values))

	if isinstance(node, ast.UnaryOp):
		op = UNARY_OPERATORS.get(type(node.op))
		if not op:
			raise FormulaError(_("Only + - * / are allowed in the forecast formula."))
		operand = _compile(node.operand, allowed, used, depth + 1)
		return lambda values: op(operand(values))

	if isinstance(node, ast.Call):
		if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
			raise FormulaError(
				_("Only these functions are allowed in the forecast formula: {0}.").format(
					", ".join(sorted(FUNCTIONS))
				)
			)
		if node.keywords:
			raise FormulaError(_("Functions in the forecast formula take no named arguments."))
		function, least, most = FUNCTIONS[node.func.id]
		if not least <= len(node.args) <= most:
			raise FormulaError(
				_("{0}() takes between {1} and {2} arguments.").format(node.func.id, least, most)
			)
		if any(isinstance(arg, ast.Starred) for arg in node.args):
			raise FormulaError(_("Functions in the forecast formula take plain arguments."))
		args = [_compile(arg, allowed, used, depth + 1) for arg in node.args]
		return lambda values: function(*(arg(values) for arg in args))

	if isinstance(node, ast.Attribute):
		raise FormulaError(_("Attribute access (.) is not allowed in the forecast formula."))
	raise FormulaError(
		_(
			"{0} is not allowed in the forecast formula: use numbers, number fields, + - * / and parentheses."
		).format(type(node).__name__)
	)
