"""Fuzzing (hypothesis, a fixed budget: derandomized, a set number of examples, no example database) of
what reads text a user wrote: the forecast formula, alert conditions, alert templates, CSV and vCard
files. Each never raises anything but its own error, never runs code, and returns within a bound."""

import ast
import io
import math
import os
import tempfile
import time

import frappe
import pytest
from frappe.utils import now_datetime
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opportunity_suite.services.alerts import conditions as cond
from opportunity_suite.services.alerts import templates
from opportunity_suite.services.alerts.errors import AlertRuleError, TemplateRefusedError
from opportunity_suite.services.formula import FUNCTIONS, FormulaError, compile_formula
from opportunity_suite.services.importing import readers, vcard
from tests.factories import make_opportunity

# a bound per example, generous for a 2-core machine shared with other work: the point is "returns", not speed
SECONDS = 5


def budget(examples: int):
	"""The same examples on every run (CI stays bounded and reproducible)."""
	return settings(
		max_examples=examples,
		deadline=None,  # each test checks its own time bound, tighter than a flaky per-example deadline
		derandomize=True,
		database=None,
		suppress_health_check=[
			HealthCheck.function_scoped_fixture,
			HealthCheck.too_slow,
			HealthCheck.data_too_large,
			HealthCheck.filter_too_much,
		],
	)


@pytest.fixture(autouse=True)
def _remove_error_logs():
	"""Formula failures are logged; Error Log is MyISAM and outlives the test's rollback."""
	start = now_datetime()
	yield
	frappe.db.delete("Error Log", {"creation": (">=", start), "method": ("like", "Forecast formula%")})


def _expressions(atoms, operators, wrap):
	return st.recursive(
		atoms,
		lambda inner: st.one_of(
			st.tuples(inner, st.sampled_from(operators), inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
			inner.map(lambda e: f"-{e}"),
			*wrap(inner),
		),
		max_leaves=10,
	)


# ---------------------------------------------------------------- the forecast formula

FORMULA_FIELDS = frozenset({"amount", "probability", "exchange_rate"})
NUMBERS = st.one_of(
	st.integers(-(10**30), 10**30).map(str),
	st.floats(allow_nan=False, allow_infinity=False).map(repr),
	st.sampled_from(["1e999", "1e308", "1e-300", "0", "0.0", "9" * 400, "0x10", "1_000"]),
)
FORMULA_ATOMS = st.one_of(
	NUMBERS,
	st.sampled_from(
		["amount", "probability", "exchange_rate", "forecast_amount", "frappe", "__import__", "'s'", "True"]
	),
)
FORMULA_TEXTS = st.one_of(
	_expressions(
		FORMULA_ATOMS,
		["+", "-", "*", "/", "**", "%", "//", "<", "and", "if 1 else"],
		lambda inner: [
			st.tuples(
				st.sampled_from(["round", "min", "max", "abs", "open", "eval", "len"]),
				st.lists(inner, max_size=3),
			).map(lambda t: f"{t[0]}({', '.join(t[1])})"),
			inner.map(lambda e: f"{e}.__class__"),
			inner.map(lambda e: f"[{e}][0]"),
		],
	),
	st.text(max_size=60),
)
RECORD_NUMBERS = st.one_of(
	st.none(),
	st.floats(),
	st.integers(-(10**400), 10**400),
	st.text(max_size=12),
	st.sampled_from(["1,000.50", "NaN", "-inf", "1e999", "50%", {}, [], True]),
)
ARITHMETIC_NODES = (
	ast.Expression,
	ast.BinOp,
	ast.UnaryOp,
	ast.Constant,
	ast.Name,
	ast.Call,
	ast.Load,
	ast.Add,
	ast.Sub,
	ast.Mult,
	ast.Div,
	ast.USub,
	ast.UAdd,
)


@budget(400)
@given(
	text=FORMULA_TEXTS,
	records=st.lists(st.dictionaries(st.sampled_from(sorted(FORMULA_FIELDS)), RECORD_NUMBERS), max_size=4),
)
def test_formula_is_refused_or_evaluates_to_a_finite_number(text, records):
	start = time.monotonic()
	try:
		formula = compile_formula(text, FORMULA_FIELDS)
	except FormulaError:
		assert time.monotonic() - start < SECONDS
		return
	assert time.monotonic() - start < SECONDS
	# what was accepted is arithmetic over the fields and runs nothing else
	for node in ast.walk(ast.parse(formula.text, mode="eval")):
		assert isinstance(node, ARITHMETIC_NODES), type(node)
		if isinstance(node, ast.Call):
			assert node.func.id in FUNCTIONS
		if isinstance(node, ast.Name) and not isinstance(getattr(node, "ctx", None), ast.Store):
			assert node.id in FORMULA_FIELDS | set(FUNCTIONS)
	for values in records:
		result = formula.evaluate(values)
		assert isinstance(result, float) and math.isfinite(result)
	assert time.monotonic() - start < 2 * SECONDS


# ---------------------------------------------------------------- alert conditions

CONDITION_FIELDS = st.sampled_from(
	[
		"amount",
		"probability",
		"expected_close_date",
		"converted_on",
		"opportunity_name",
		"sales_stage",
		"status",
		"items",
		"owner",
		"modified",
		"no_such_field",
		"",
	]
)
RULE_VALUES = st.one_of(
	st.text(max_size=20),
	st.sampled_from(
		["today", "2024-02-30", "0000-00-00", "1e999", "nan", "-5", "10,000", "2024-01-01 10:00:00", "a,,b"]
	),
)
RECORD_VALUES = st.one_of(
	st.none(),
	st.text(max_size=20),
	st.floats(),
	st.integers(),
	st.dates(),
	st.datetimes(),
	st.sampled_from(["2024-02-30", "not a date", "1,000", {}, []]),
)
CONDITIONS = st.lists(
	st.builds(
		cond.Condition,
		CONDITION_FIELDS,
		st.sampled_from([*cond.OPERATORS, "Roughly", ""]),
		RULE_VALUES,
		RULE_VALUES,
	),
	max_size=4,
)


@budget(300)
@given(
	conditions=CONDITIONS,
	match=st.sampled_from(["All", "Any", "Most"]),
	values=st.dictionaries(CONDITION_FIELDS, RECORD_VALUES),
	before=st.one_of(st.none(), st.dictionaries(CONDITION_FIELDS, RECORD_VALUES)),
	scheduled=st.booleans(),
)
def test_condition_is_refused_or_evaluates_to_a_bool(conditions, match, values, before, scheduled):
	meta = frappe.get_meta("Opportunity")
	start = time.monotonic()
	for condition in conditions:
		try:
			cond.validate_condition("Opportunity", condition, scheduled)
		except AlertRuleError:
			pass
	try:
		result = cond.evaluate(conditions, match, values, before, "Opportunity", meta)
	except AlertRuleError:
		result = False
	assert isinstance(result, bool)
	assert time.monotonic() - start < SECONDS


# ---------------------------------------------------------------- alert templates

TEMPLATE_ATOMS = st.sampled_from(
	[
		"doc.amount",
		"doc.opportunity_name",
		"opportunity_name",
		"doc.items",
		"doc['status']",
		"'x'",
		"'%0999999d'",
		"9",
		"100000",
		"1e999",
		"[1, 'a']",
		"doc.__class__",
		"loop.index",
		"row",
		"frappe",
	]
)
TEMPLATE_EXPRESSIONS = _expressions(
	TEMPLATE_ATOMS,
	["+", "-", "*", "/", "//", "%", "**", "~", "==", "<", "and", "in"],
	lambda inner: [
		st.tuples(
			inner,
			st.sampled_from(
				[
					"center(100000000)",
					"replace('x', 'xxxxxxxxxx')",
					"join('abc')",
					"format(1)",
					"upper",
					"length",
					"string",
					"sum",
					"first",
					"int",
					"round",
					"money",
					"attr('__class__')",
					"map(attribute='x')",
					"safe",
				]
			),
		).map(lambda t: f"{t[0]}|{t[1]}"),
		st.lists(inner, max_size=3).map(lambda items: f"[{', '.join(items)}]"),
		inner.map(lambda e: f"{e}[0]"),
		inner.map(lambda e: f"{e}()"),
	],
)
TEMPLATES = st.one_of(
	TEMPLATE_EXPRESSIONS.map(lambda e: f"{{{{ {e} }}}}"),
	st.tuples(
		st.sampled_from(["doc.items", "items", "[1, 2, 3]", "doc.description", "'x' * 99"]),
		TEMPLATE_EXPRESSIONS,
	).map(lambda t: f"{{% for row in {t[0]} %}}{{{{ {t[1]} }}}}{{% endfor %}}"),
	st.tuples(TEMPLATE_EXPRESSIONS, TEMPLATE_EXPRESSIONS).map(
		lambda t: f"{{% if {t[0]} %}}{{{{ {t[1]} }}}}{{% else %}}-{{% endif %}}"
	),
	TEMPLATE_EXPRESSIONS.map(lambda e: f"{{% set a = {e} %}}{{{{ a ~ a }}}}"),
	st.text(max_size=60),
)


@pytest.fixture(scope="module")
def record_context():
	context = templates.record_context(make_opportunity(amount=1234.5, description="<p>x</p>"))
	frappe.db.rollback()
	return context


@budget(300)
@given(template=TEMPLATES)
def test_template_is_refused_or_renders_within_its_bounds(template, record_context):
	start = time.monotonic()
	try:
		templates.check_template(template, "Opportunity")
	except TemplateRefusedError:
		assert time.monotonic() - start < SECONDS
		return
	assert time.monotonic() - start < SECONDS
	assert "**" not in template.replace("'**'", "")
	try:
		rendered = templates.render(template, record_context)
	except Exception:
		pass  # the dispatcher fails the rule (toward its switch-off): what matters is how long it took
	else:
		assert len(rendered) <= templates.MAX_SIZE
	assert time.monotonic() - start < templates.RENDER_SECONDS + SECONDS


# ---------------------------------------------------------------- import files

CSV_TEXT = st.lists(
	st.sampled_from(
		[",", ";", "|", "\t", '"', '""', "\n", "\r\n", "\r", "a", "é", "\x00", " ", "=1+1", "\ufeff"]
	),
	max_size=60,
).map("".join)


def _write(data: bytes) -> str:
	handle, path = tempfile.mkstemp(suffix=".csv")
	with os.fdopen(handle, "wb") as f:
		f.write(data)
	return path


@budget(150)
@given(
	data=st.one_of(st.binary(max_size=300), CSV_TEXT.map(lambda t: t.encode("utf-8", "surrogatepass"))),
	encoding=st.sampled_from(["utf-8-sig", "cp1252", "utf-16", "latin-1"]),
	delimiter=st.sampled_from([None, "Auto", ",", ";", "Tab", "|", "x"]),
)
def test_csv_reader_raises_only_its_own_error(data, encoding, delimiter):
	path = _write(data)
	start = time.monotonic()
	try:
		assert readers.detect_encoding(path)
		for check_first in (True, False):  # a preview reads rows without checking the whole file
			try:
				if check_first:
					readers.check_decodes(path, encoding)
				separator = readers.csv_delimiter(delimiter, path, encoding)
				for row_no, row in readers.iter_csv(path, encoding, separator):
					assert row_no >= 1 and all(isinstance(cell, str) for cell in row)
			except readers.ImportFileError:
				pass
	finally:
		os.unlink(path)
	assert time.monotonic() - start < SECONDS


VCARD_LINES = st.lists(
	st.one_of(
		st.sampled_from(
			[
				"BEGIN:VCARD",
				"END:VCARD",
				"VERSION:2.1",
				"VERSION:4.0",
				"FN:Ada Lovelace",
				"N:Lovelace;Ada;;;",
				"ORG:Analytical;Engines",
				"EMAIL;TYPE=PREF:ada@example.com",
				"EMAIL:mailto:",
				"TEL;CELL:+44 1",
				"TEL:tel:",
				"ADR;TYPE=work:;;1 Street;Town;;;UK",
				"NOTE;ENCODING=QUOTED-PRINTABLE;CHARSET=UTF-8:caf=C3=A9=",
				"NOTE;ENCODING=QUOTED-PRINTABLE;CHARSET=no-such-charset:=FF",
				"NOTE;ENCODING=QUOTED-PRINTABLE:=E9",
				" continued",
				"\tcontinued",
				'X-Y;A="a:b":c',
				"PHOTO;ENCODING=b:AAAA",
				":",
				";;;",
				"",
			]
		),
		st.text(max_size=30),
	),
	max_size=30,
)


@budget(200)
@given(lines=VCARD_LINES)
def test_vcard_reader_raises_only_its_own_error(lines):
	start = time.monotonic()
	try:
		data = "".join(line + "\r\n" for line in lines).encode()
		for card in vcard.iter_cards(vcard.logical_lines(io.BytesIO(data))):
			row = card.cells()
			assert len(row) == len(vcard.COLUMNS) and all(isinstance(value, str) for value in row)
	except vcard.VCardError:
		pass
	assert time.monotonic() - start < SECONDS


# ---------------------------------------------------------------- what the fuzzers found


def test_a_record_date_that_is_no_date_counts_as_empty_in_a_condition():
	"""Was a dateutil ParserError out of the rule (and getdate's frappe.throw for 2024-02-30)."""
	for value in (";", "0", "2024-02-30"):
		assert not cond.evaluate(
			[cond.Condition("modified", "Before", "2999-01-01")],
			"All",
			{"modified": value},
			None,
			"Opportunity",
		)
		assert not cond.evaluate(
			[cond.Condition("expected_close_date", "After", "2024-01-01")],
			"All",
			{"expected_close_date": value},
			None,
			"Opportunity",
		)


def test_a_utf16_file_without_byte_order_mark_is_an_import_error():
	"""Was a UnicodeError ("UTF-16 stream does not start with BOM"): an HTTP 500 for the importer."""
	path = _write(b"\x00\x00a,b\n")
	try:
		with pytest.raises(readers.ImportFileError):
			readers.check_decodes(path, "utf-16")
		assert readers.detect_delimiter(path, "utf-16") == ","
		with pytest.raises(readers.ImportFileError):
			list(readers.iter_csv(path, "utf-16", ","))
	finally:
		os.unlink(path)
