"""Cell values → typed field values, exactly or not at all: a cell that does not parse fails its row
with a reason; nothing is ever stored as 0 or as a shifted value."""

import datetime
import math
import re
import unicodedata
from decimal import Decimal, InvalidOperation

from frappe import _

from opportunity_suite.services.exporting import strip_neutralisation

# a space, a no-break space and a narrow no-break space group digits in every number format (`10 000`,
# `1 234,56`, `1 234.56`): what French, Swiss, Nordic and ISO-style spreadsheets write
GROUP_SPACES = (" ", "\u00a0", "\u202f")
# number format → (group separators, decimal separator)
NUMBER_FORMATS = {
	"1,234.56": ((",", *GROUP_SPACES), "."),
	"1.234,56": ((".", *GROUP_SPACES), ","),
	"1 234,56": (GROUP_SPACES, ","),
	"1'234.56": (("'", "\u2019", *GROUP_SPACES), "."),
}
DATE_FORMATS = {
	"yyyy-mm-dd": "%Y-%m-%d",
	"dd-mm-yyyy": "%d-%m-%Y",
	"mm-dd-yyyy": "%m-%d-%Y",
	"dd/mm/yyyy": "%d/%m/%Y",
	"mm/dd/yyyy": "%m/%d/%Y",
	"dd.mm.yyyy": "%d.%m.%Y",
}
# a currency sign → the currencies it can mean ($ and ¥ are several countries')
CURRENCY_OF_SIGN = {
	"$": {"USD", "CAD", "AUD", "NZD", "SGD", "HKD", "MXN", "ARS", "CLP", "COP", "TWD", "BRL"},
	"€": {"EUR"},
	"£": {"GBP", "EGP", "GIP", "FKP"},
	"¥": {"JPY", "CNY"},
	"₹": {"INR"},
	"₩": {"KRW"},
	"₽": {"RUB"},
	"₺": {"TRY"},
	"₪": {"ILS"},
	"฿": {"THB"},
}
CURRENCY_SIGNS = "".join(CURRENCY_OF_SIGN)
_SPACES = " \u00a0\u202f"
# DECIMAL(21,9): 12 integer digits
CURRENCY_LIMIT = Decimal("1e12")
INT_LIMIT = 2**31
EXCEL_EPOCH = datetime.date(1899, 12, 30)
EXCEL_MAX_SERIAL = 2958465  # 9999-12-31
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_SERIAL = re.compile(r"\d{1,7}(\.0+)?")
_CURRENCY_CODE = re.compile(r"^(?P<lead>[A-Z]{3})\s*|\s*(?P<trail>[A-Z]{3})$")


class CellError(ValueError):
	"""A cell that can't be turned into its field's value; the message is shown to the user."""


def text(value) -> str:
	"""A cell as a name to look up (a link, a select option): our export's formula prefix removed,
	surrounding whitespace trimmed."""
	if value is None:
		return ""
	if isinstance(value, float) and value.is_integer():
		value = int(value)
	return strip_neutralisation(str(value)).strip()


def saved_text(value, df=None) -> str | None:
	"""A text cell as a save over REST stores it: our export's formula prefix removed and nothing else
	(no trimming: a leading tab or carriage return before `=` stays, a trailing space stays), HTML
	sanitized as Frappe's `_sanitize_content` does for the field. A cell of only whitespace is empty."""
	if value is None:
		return None
	if isinstance(value, float) and value.is_integer():
		value = int(value)
	result = strip_neutralisation(str(value))
	if not result.strip():
		return None
	if ("<" in result or ">" in result) and _sanitized(df) and "<!-- markdown -->" not in result:
		from frappe.utils.html_utils import sanitize_html

		result = sanitize_html(result, linkify=bool(df) and df.fieldtype == "Text Editor")
	return result


def _sanitized(df) -> bool:
	if df is None:
		return True
	if df.get("ignore_xss_filter") or df.fieldtype in _NOT_SANITIZED:
		return False
	return not (df.fieldtype in ("Data", "Small Text", "Text") and df.get("options") == "Email")


_NOT_SANITIZED = frozenset({"Code", "Attach", "Attach Image", "Barcode"})


def text_converter(df):
	"""The converter of a text field (Data, Link, Small Text, Text Editor…): links are names to look up
	(trimmed, a Vtiger reference `Accounts::::Acme` read as its name), other text is kept as a save
	stores it; Data and Link are at most their length (140) characters, counted as Frappe counts them."""
	from opportunity_suite.services.importing import vtiger

	fieldname, fieldtype = df.fieldname, df.fieldtype
	limit = (df.length or 140) if fieldtype in ("Data", "Link", "Dynamic Link") else None
	is_link = fieldtype in ("Link", "Dynamic Link")
	references = is_link or fieldname in vtiger.FIELD_MODULES

	def convert(value):
		result = text(value) if is_link else saved_text(value, df)
		if not result:
			return None
		if references and "::::" in result:
			result = (
				vtiger.reference_name(result, fieldname).strip()
				if is_link
				else vtiger.reference_name(result, fieldname)
			)
		if limit and len(result) > limit:
			raise CellError(_("is longer than {0} characters").format(limit))
		return result or None

	return convert


def _number_pattern(groups: tuple[str, ...], decimal: str) -> re.Pattern:
	group = "|".join(re.escape(g) for g in groups)
	return re.compile(  # one separator throughout a number: `1,234 567` is not a number
		rf"(?P<sign>[-+])?(?P<int>\d{{1,3}}(?P<group>{group})\d{{3}}(?:(?P=group)\d{{3}})*|\d+)"
		rf"(?:{re.escape(decimal)}(?P<frac>\d+))?"
	)


_PATTERNS = {name: _number_pattern(*spec) for name, spec in NUMBER_FORMATS.items()}


class PercentCell(float):
	"""A spreadsheet cell formatted as a percentage: stored 0.25, shown 25 %."""


def _number_text(raw: str) -> tuple[str, bool, list[str], bool]:
	"""(the number's digits and signs, negative in parentheses?, currency signs or codes written with
	it, a % written with it?)"""
	marks: list[str] = []
	s = raw.strip(_SPACES)
	percent = s.endswith("%")
	if percent:
		s = s[:-1].strip(_SPACES)

	def take_signs(s: str) -> str:
		while s and s[0] in CURRENCY_SIGNS:
			marks.append(s[0])
			s = s[1:].lstrip(_SPACES)
		while s and s[-1] in CURRENCY_SIGNS:
			marks.append(s[-1])
			s = s[:-1].rstrip(_SPACES)
		return s

	s = take_signs(s)
	negative = False
	if s.startswith("(") and s.endswith(")"):
		negative, s = True, s[1:-1].strip(_SPACES)
	code = _CURRENCY_CODE.search(s)
	if code:
		marks.append(code.group("lead") or code.group("trail"))
		s = (s[: code.start()] + s[code.end() :]).strip(_SPACES)
	s = take_signs(s)
	if s[:1] in "-+" and s[1:2] in CURRENCY_SIGNS:  # -$12
		marks.append(s[1])
		s = s[0] + s[2:].lstrip(_SPACES)
	return s, negative, marks, percent


def parse_number(value, number_format: str = "1,234.56", percent_allowed: bool = True) -> Decimal | None:
	"""A number written in the chosen locale: `1.234,56`, `1 234,56`, `10 000`, `$12,000`, `50%`,
	`(1,200)` for a negative. Returns None for an empty cell; raises CellError for anything else that
	isn't a number (and for a percentage where `percent_allowed` is false)."""
	if value is None:
		return None
	if isinstance(value, bool):
		raise CellError(_("{0} is not a number").format(value))
	if isinstance(value, PercentCell) and not percent_allowed:
		raise CellError(_("{0} is a percentage, not an amount").format(f"{float(value) * 100:g}%"))
	if isinstance(value, int | float | Decimal):
		if isinstance(value, float) and not math.isfinite(value):
			raise CellError(_("{0} is not a finite number").format(value))
		return Decimal(str(value))
	raw = strip_neutralisation(str(value)).strip(_SPACES)
	if not raw:
		return None
	pattern = _PATTERNS.get(number_format) or _PATTERNS["1,234.56"]
	match = pattern.fullmatch(raw)  # the common case: a plain number
	negative = False
	if not match:
		s, negative, _marks, percent = _number_text(raw)
		if percent and not percent_allowed:
			raise CellError(_("{0} is a percentage, not an amount").format(raw))
		match = pattern.fullmatch(s)
	if not match:
		raise CellError(_("{0} is not a number in the format {1}").format(raw, number_format))
	digits = re.sub(r"\D", "", match.group("int"))
	frac = match.group("frac") or ""
	try:
		number = Decimal(f"{digits}.{frac}" if frac else digits)
	except InvalidOperation:
		raise CellError(_("{0} is not a number").format(raw)) from None
	if match.group("sign") == "-" or negative:
		number = -number
	return number


def currency_mark(value) -> str | None:
	"""The currency sign or ISO code written in a number cell (`€1,500` → €, `1 500 CHF` → CHF)."""
	if not isinstance(value, str) or (value[:1].isdigit() and value[-1:].isdigit()):
		return None  # the common case, a plain number, at once
	marks = _number_text(strip_neutralisation(value))[2]
	return marks[0] if marks else None


def check_currency_mark(value, currency: str | None):
	"""A cell whose currency sign or code contradicts the row's currency (`€1,500` on a USD row) can't be
	taken as an amount in that currency: CellError."""
	mark = currency_mark(value)
	if not mark or not currency:
		return
	if currency.upper() not in CURRENCY_OF_SIGN.get(mark, {mark}):
		raise CellError(
			_("{0} is written in {1} but the row's currency is {2}").format(
				value.strip(_SPACES), mark, currency
			)
		)


def to_currency(value, number_format: str) -> float | None:
	"""An amount: not a percentage, not negative (an opportunity is a potential sale)."""
	number = parse_number(value, number_format, percent_allowed=False)
	if number is None:
		return None
	if number < 0:
		raise CellError(
			_("{0} is negative: an amount can't be below zero (an opportunity is a potential sale)").format(
				value
			)
		)
	if abs(number) >= CURRENCY_LIMIT:
		raise CellError(_("{0} is beyond the largest amount allowed").format(value))
	return float(number)


def to_float(value, number_format: str) -> float | None:
	number = parse_number(value, number_format, percent_allowed=False)
	if number is None:
		return None
	if abs(number) >= CURRENCY_LIMIT:
		raise CellError(_("{0} is out of range").format(value))
	return float(number)


def to_int(value, number_format: str) -> int | None:
	number = parse_number(value, number_format, percent_allowed=False)
	if number is None:
		return None
	if number != number.to_integral_value():
		raise CellError(_("{0} is not a whole number").format(value))
	if abs(number) >= INT_LIMIT:
		raise CellError(_("{0} is out of range").format(value))
	return int(number)


def to_percent(value, number_format: str) -> float | None:
	"""A percentage: `25`, `25%`, or a spreadsheet cell formatted as a percentage (stored 0.25)."""
	if isinstance(value, PercentCell):
		number = Decimal(str(float(value))) * 100
		shown = f"{number.normalize():f}%"
	else:
		number = parse_number(value, number_format)
		shown = value
	if number is None:
		return None
	if not 0 <= number <= 100:
		raise CellError(_("{0} is not between 0 and 100").format(shown))
	return float(number)


def to_date(value, date_format: str = "yyyy-mm-dd") -> datetime.date | None:
	"""A date in the chosen format (ISO yyyy-mm-dd is always understood), a date cell, or an Excel serial
	number. Impossible dates (31 April, 29 February of a common year) are rejected."""
	if value is None or value == "":
		return None
	if isinstance(value, datetime.datetime):
		return value.date()
	if isinstance(value, datetime.date):
		return value
	if isinstance(value, int | float) and not isinstance(value, bool):
		return _excel_serial(value)
	raw = strip_neutralisation(str(value)).strip()
	if not raw:
		return None
	if len(raw) == 10 and _ISO_DATE.fullmatch(raw):
		try:  # the common case, at C speed; an impossible date falls through to the error below
			return datetime.date.fromisoformat(raw)
		except ValueError:
			pass
	if _SERIAL.fullmatch(raw):
		return _excel_serial(float(raw))
	candidates = [DATE_FORMATS.get(date_format, "%Y-%m-%d")]
	if _ISO_DATE.fullmatch(raw[:10]):
		candidates.insert(0, "%Y-%m-%d")
		raw = raw[:10] if len(raw) == 10 or raw[10:11] in (" ", "T") else raw
	for fmt in candidates:
		try:
			return datetime.datetime.strptime(raw, fmt).date()
		except ValueError:
			continue
	raise CellError(_("{0} is not a valid date in the format {1}").format(raw, date_format))


def _excel_serial(number: float) -> datetime.date:
	if not math.isfinite(number) or not 1 <= number <= EXCEL_MAX_SERIAL or number != int(number):
		raise CellError(_("{0} is not a valid date").format(number))
	return EXCEL_EPOCH + datetime.timedelta(days=int(number))


def to_check(value) -> int | None:
	if value is None or value == "":
		return None
	word = str(value).strip().lower()
	if word in ("1", "yes", "y", "true", "x", "1.0"):
		return 1
	if word in ("0", "no", "n", "false", "0.0"):
		return 0
	raise CellError(_("{0} is not yes/no").format(value))


def to_select(options: list[str]):
	"""The converter of a Select field: a cell names one of `options`, case-insensitively."""
	folded = {o.casefold(): o for o in options if o}
	offered = ", ".join(o for o in options if o)

	def convert(value) -> str | None:
		word = text(value)
		if not word:
			return None
		option = folded.get(word.casefold())
		if option is None:
			raise CellError(_("{0} is not one of {1}").format(word, offered))
		return option

	return convert


def match_key(value) -> str:
	"""How MariaDB's utf8mb4_unicode_ci compares: case- and accent-insensitive, trailing spaces ignored."""
	if value is None:
		return ""
	key = str(value).rstrip(" ").casefold()
	if not key.isascii():
		key = "".join(c for c in unicodedata.normalize("NFKD", key) if not unicodedata.combining(c))
	return key
