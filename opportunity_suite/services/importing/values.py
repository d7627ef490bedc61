"""Cell values → typed field values, exactly or not at all: a cell that does not parse fails its row
with a reason; nothing is ever stored as 0 or as a shifted value."""

import datetime
import math
import re
import unicodedata
from decimal import Decimal, InvalidOperation

from frappe import _

from opportunity_suite.services.exporting import strip_neutralisation

# number format → (group separators, decimal separator)
NUMBER_FORMATS = {
	"1,234.56": ((",",), "."),
	"1.234,56": ((".",), ","),
	"1 234,56": ((" ", "\u00a0", "\u202f"), ","),
	"1'234.56": (("'", "\u2019"), "."),
}
DATE_FORMATS = {
	"yyyy-mm-dd": "%Y-%m-%d",
	"dd-mm-yyyy": "%d-%m-%Y",
	"mm-dd-yyyy": "%m-%d-%Y",
	"dd/mm/yyyy": "%d/%m/%Y",
	"mm/dd/yyyy": "%m/%d/%Y",
	"dd.mm.yyyy": "%d.%m.%Y",
}
CURRENCY_SIGNS = "$€£¥₹₩₽₺₪฿"
# DECIMAL(21,9): 12 integer digits
CURRENCY_LIMIT = Decimal("1e12")
INT_LIMIT = 2**31
EXCEL_EPOCH = datetime.date(1899, 12, 30)
EXCEL_MAX_SERIAL = 2958465  # 9999-12-31
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_SERIAL = re.compile(r"\d{1,7}(\.0+)?")
_CURRENCY_CODE = re.compile(r"^[A-Z]{3}\s*|\s*[A-Z]{3}$")


class CellError(ValueError):
	"""A cell that can't be turned into its field's value; the message is shown to the user."""


def text(value) -> str:
	"""A text cell as stored: our export's formula prefix removed, surrounding whitespace trimmed."""
	if value is None:
		return ""
	if isinstance(value, float) and value.is_integer():
		value = int(value)
	return strip_neutralisation(str(value)).strip()


def _number_pattern(groups: tuple[str, ...], decimal: str) -> re.Pattern:
	group = "|".join(re.escape(g) for g in groups)
	return re.compile(
		rf"(?P<sign>[-+])?(?P<int>\d{{1,3}}(?:(?:{group})\d{{3}})+|\d+)(?:{re.escape(decimal)}(?P<frac>\d+))?"
	)


_PATTERNS = {name: _number_pattern(*spec) for name, spec in NUMBER_FORMATS.items()}


def parse_number(value, number_format: str = "1,234.56") -> Decimal | None:
	"""A number written in the chosen locale: `1.234,56`, `1 234,56`, `$12,000`, `50%`, `(1,200)` for a
	negative. Returns None for an empty cell; raises CellError for anything else that isn't a number."""
	if value is None:
		return None
	if isinstance(value, bool):
		raise CellError(_("{0} is not a number").format(value))
	if isinstance(value, int | float | Decimal):
		if isinstance(value, float) and not math.isfinite(value):
			raise CellError(_("{0} is not a finite number").format(value))
		return Decimal(str(value))
	raw = strip_neutralisation(str(value)).strip()
	if not raw:
		return None
	s = raw.strip(CURRENCY_SIGNS + " \u00a0").rstrip("%").strip()
	negative = False
	if s.startswith("(") and s.endswith(")"):
		negative, s = True, s[1:-1].strip()
	s = _CURRENCY_CODE.sub("", s).strip(CURRENCY_SIGNS + " \u00a0")
	if s[:1] in "-+" and s[1:2] in CURRENCY_SIGNS:  # -$12
		s = s[0] + s[2:]
	pattern = _PATTERNS.get(number_format) or _PATTERNS["1,234.56"]
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


def to_currency(value, number_format: str) -> float | None:
	number = parse_number(value, number_format)
	if number is None:
		return None
	if abs(number) >= CURRENCY_LIMIT:
		raise CellError(_("{0} is beyond the largest amount allowed").format(value))
	return float(number)


def to_float(value, number_format: str) -> float | None:
	number = parse_number(value, number_format)
	if number is None:
		return None
	if abs(number) >= CURRENCY_LIMIT:
		raise CellError(_("{0} is out of range").format(value))
	return float(number)


def to_int(value, number_format: str) -> int | None:
	number = parse_number(value, number_format)
	if number is None:
		return None
	if number != number.to_integral_value():
		raise CellError(_("{0} is not a whole number").format(value))
	if abs(number) >= INT_LIMIT:
		raise CellError(_("{0} is out of range").format(value))
	return int(number)


def to_percent(value, number_format: str) -> float | None:
	number = parse_number(value, number_format)
	if number is None:
		return None
	if not 0 <= number <= 100:
		raise CellError(_("{0} is not between 0 and 100").format(value))
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
