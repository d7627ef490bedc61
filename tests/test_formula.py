import pytest

from opportunity_suite.services.formula import FormulaError, compile_formula

FIELDS = frozenset({"amount", "probability", "exchange_rate"})


@pytest.mark.parametrize(
	"text, values, expected",
	[
		("amount * probability / 100", {"amount": 1000, "probability": 20}, 200),
		("(amount - 100) * probability / 100", {"amount": 1100, "probability": 50}, 500),
		("-amount + 10", {"amount": 4}, 6),
		("min(amount, 5000) * probability / 100", {"amount": 8000, "probability": 10}, 500),
		("max(amount, 100, 7)", {"amount": 3}, 100),
		("round(amount / 3, 2)", {"amount": 10}, 3.33),
		("abs(amount - 50)", {"amount": 20}, 30),
		("amount * 1.5e1", {"amount": 2}, 30),
	],
)
def test_formula_computes_arithmetic(text, values, expected):
	assert compile_formula(text, FIELDS).evaluate(values) == pytest.approx(expected)


def test_missing_values_count_as_zero():
	formula = compile_formula("amount * probability / 100 + 5", FIELDS)
	assert formula.evaluate({}) == 5
	assert formula.evaluate({"amount": None, "probability": ""}) == 5
	assert formula.fields == {"amount", "probability"}


def test_division_by_zero_for_one_record_gives_zero():
	formula = compile_formula("amount / probability + 7", FIELDS)
	assert formula.evaluate({"amount": 10, "probability": 0}) == 0
	assert formula.evaluate({"amount": 10, "probability": 5}) == 9


@pytest.mark.parametrize(
	"text, message",
	[
		("amount * chance", "Unknown name chance"),
		("forecast_amount * 2", "Unknown name forecast_amount"),
		("amount.real", "Attribute access"),
		("().__class__", "Attribute access"),
		("__import__('os').system('id')", "Only these functions"),
		("open('/etc/passwd')", "Only these functions"),
		("frappe.db.sql('select 1')", "Only these functions"),
		("amount * 'x'", "only contain numbers"),
		("'abc'", "only contain numbers"),
		("amount / 0", "always divides by zero"),
		("amount / (1 - 1)", "always divides by zero"),
		("amount / -0.0", "always divides by zero"),
		("amount ** 1000", "Only + - * /"),
		("amount % 3", "Only + - * /"),
		("amount > 3", "Compare"),
		("[amount][0]", "Subscript"),
		("lambda: 1", "Lambda"),
		("round(amount, ndigits=2)", "no named arguments"),
		("min(amount)", "between 2 and 20"),
		("True * amount", "only contain numbers"),
		("min * 2", "is a function"),
		("amount *", "not a valid expression"),
		("", "empty"),
		("amount + " * 200 + "1", "longer than"),
	],
)
def test_formula_refuses_what_is_not_arithmetic(text, message):
	with pytest.raises(FormulaError) as error:
		compile_formula(text, FIELDS)
	assert message in str(error.value)
