"""vCard 2.1, 3.0 and 4.0 files read card by card, each card on its own: what one card or one value
gets wrong costs that card or that value, never the file.

vobject (the parser Frappe's own Contact uses to write vCards) gives the content-line grammar:
`vobject.base.parseLine` splits `[group.]NAME;params:value` with quoted parameters and 2.1's bare
parameters (`TEL;WORK;VOICE:`). The rest of `vobject.readOne` is not used, because on real address books
it loses data (tests/test_import_vcard.py shows each case):
- a value is decoded as text only after its lines are joined, so unfolding happens here, on bytes: a fold
  may fall inside a multi-byte UTF-8 character (vobject reads decoded text), and 2.1's quoted-printable
  soft line breaks (`=` at a line's end) are joined (vobject fails the card on them);
- an unescaped comma in FN, NOTE or TITLE (Outlook, Lotus Notes) is kept (vobject keeps only the text
  before the first comma, and splits ORG at it);
- a quoted-printable value or a line that doesn't decode, a malformed line, a card cut off before
  END:VCARD: vobject raises for the card or stops the file; here that value or that card is reported;
- `TYPE="voice,cell"` (iPhone) is two types, and `http\\://` (Apple) is a URL;
- vobject's objects cost about 1 ms a card, too slow for a 20,000-card address book.

Each card becomes a `CardRow`: the cells of `COLUMNS` (the card as the preview and the failed-rows file
show it) with the parsed `Card` attached."""

import quopri
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import frappe
from frappe import _
from vobject.base import ParseError, parseLine

COLUMNS = [
	"Full Name",
	"Prefix",
	"First Name",
	"Middle Name",
	"Last Name",
	"Suffix",
	"Organization",
	"Department",
	"Title",
	"Emails",
	"Phones",
	"Addresses",
	"Website",
	"Note",
	"UID",
	"Card",
]
SKIPPED = {b"PHOTO", b"LOGO", b"SOUND", b"KEY"}
_MAYBE_SKIPPED = (b"P", b"L", b"S", b"K", b"p", b"l", b"s", b"k")
_SIMPLE_NAME = re.compile(r"[A-Za-z0-9-]+")
_ESCAPES = re.compile(r"\\(.)", re.S)
_LINE_ENDS = re.compile(rb"\r\n|\r|\n")
READ_CHUNK = 1 << 20

# TEL types, strongest first: a work fax is a fax
PHONE_TYPES = (("PAGER", "Pager"), ("FAX", "Fax"), ("CELL", "Cell"), ("WORK", "Work"), ("HOME", "Home"))
PHONE_TYPE_ALIASES = {"MOBILE": "CELL", "IPHONE": "CELL", "MAIN": "WORK", "HOMEFAX": "FAX", "WORKFAX": "FAX"}
EMAIL_TYPES = (("WORK", "Work"), ("HOME", "Home"))
ADDRESS_TYPES = (("WORK", "Office"), ("HOME", "Personal"), ("POSTAL", "Postal"))
# Apple's labels of a grouped property (`item1.X-ABLabel:_$!<Mobile>!$_`)
_APPLE_LABEL = re.compile(r"^_\$!<(.*)>!\$_$")


class VCardError(frappe.ValidationError):
	pass


@dataclass
class Entry:
	value: str
	kind: str
	preferred: bool = False


@dataclass
class PostalAddress:
	kind: str
	street: str
	city: str
	region: str
	code: str
	country: str
	preferred: bool = False


@dataclass
class Card:
	number: int  # 1 for the file's first card
	line: int  # the line of its BEGIN:VCARD
	version: str = "3.0"
	uid: str = ""
	full_name: str = ""
	prefix: str = ""
	first_name: str = ""
	middle_name: str = ""
	last_name: str = ""
	suffix: str = ""
	organization: str = ""
	department: str = ""
	title: str = ""
	note: str = ""
	website: str = ""
	emails: list[Entry] = field(default_factory=list)
	phones: list[Entry] = field(default_factory=list)
	addresses: list[PostalAddress] = field(default_factory=list)
	warnings: list[str] = field(default_factory=list)
	error: str | None = None

	def has_name(self) -> bool:
		return bool(self.full_name or self.first_name or self.last_name or self.middle_name)

	def cells(self, card_cell: str = "card {0}, line {1}") -> list[str]:
		return [
			self.full_name,
			self.prefix,
			self.first_name,
			self.middle_name,
			self.last_name,
			self.suffix,
			self.organization,
			self.department,
			self.title,
			", ".join(e.value for e in self.emails),
			", ".join(p.value for p in self.phones),
			" | ".join(
				", ".join(p for p in (a.street, a.code, a.city, a.country) if p) for a in self.addresses
			),
			self.website,
			self.note,
			self.uid,
			card_cell.format(self.number, self.line),
		]


class CardRow(list):
	"""A card's cells (`COLUMNS`), with the card itself as `.card`."""

	card: Card


# ---------------------------------------------------------------- bytes → logical lines


def _physical_lines(f) -> Iterator[bytes]:
	"""The file's lines without their ends (CRLF, LF or a lone CR), read a chunk at a time; a UTF-8 byte
	order mark is dropped."""
	rest = b""
	first = True
	while chunk := f.read(READ_CHUNK):
		if first:
			chunk, first = chunk.removeprefix(b"\xef\xbb\xbf"), False
		data = rest + chunk
		held = data.endswith(b"\r")  # maybe the first half of a CRLF: wait for the next chunk
		pieces = _LINE_ENDS.split(data[:-1] if held else data)
		rest = pieces.pop() + (b"\r" if held else b"")
		yield from pieces
	if rest:
		yield from _LINE_ENDS.split(rest.removesuffix(b"\r"))


def _is_quoted_printable(line: bytes) -> bool:
	head = line.split(b":", 1)[0].upper()
	return b"QUOTED-PRINTABLE" in head


def logical_lines(f) -> Iterator[tuple[int, bytes]]:
	"""(line number, logical line) pairs: folded lines (a line starting with a space or a tab continues
	the one before it) and quoted-printable soft line breaks joined, still as bytes, so that a fold inside
	a multi-byte character joins the character's bytes before anything is decoded."""
	current, start, soft_break = None, 0, False
	for number, line in enumerate(_physical_lines(f), start=1):
		if current is not None and soft_break:
			current = current[:-1] + line.lstrip(b" \t")
			soft_break = current.endswith(b"=")
			continue
		if current is not None and line[:1] in (b" ", b"\t"):
			current += line[1:]
			continue
		if current is not None:
			yield start, current
		current, start = line, number
		soft_break = line.endswith(b"=") and _is_quoted_printable(line)
	if current is not None:
		yield start, current


# ---------------------------------------------------------------- one content line


def _unescape(text: str) -> str:
	if "\\" not in text:
		return text
	return _ESCAPES.sub(lambda m: "\n" if m.group(1) in "nN" else m.group(1), text)


def _split_raw(text: str, separator: str) -> list[str]:
	"""`text` split at each `separator` not escaped by a backslash; the parts still escaped."""
	if "\\" not in text:
		return text.split(separator)
	parts, current, escaped = [], [], False
	for char in text:
		if escaped:
			current.append("\\" + char)
			escaped = False
		elif char == "\\":
			escaped = True
		elif char == separator:
			parts.append("".join(current))
			current = []
		else:
			current.append(char)
	parts.append("".join(current))
	return parts


def _split_structured(text: str) -> list[str]:
	"""The components of N, ADR or ORG (`;`-separated; `\\;` is a semicolon), unescaped."""
	return [_unescape(part) for part in _split_raw(text, ";")]


def _name_part(raw: str) -> str:
	"""One component of N: a list (`Richter,James`) is its items with spaces; `\\,` is a comma."""
	return " ".join(p for p in (_unescape(item).strip() for item in _split_raw(raw, ",")) if p)


class Property:
	__slots__ = ("group", "name", "params", "types", "value")

	def __init__(self, group: str | None, name: str, params: dict[str, list[str]], types: set, value: str):
		self.group, self.name, self.params, self.types, self.value = group, name, params, types, value

	@property
	def preferred(self) -> bool:
		return "PREF" in self.types or "PREF" in self.params


def _parse_params(raw: list[list[str]]) -> tuple[dict[str, list[str]], set[str]]:
	"""vobject's parameter lists as {NAME: [values]} and the set of types: TYPE values (a quoted
	`"voice,cell"` is two) and 2.1's bare parameters."""
	params: dict[str, list[str]] = {}
	types: set[str] = set()
	for item in raw:
		if len(item) == 1:  # 2.1: `TEL;WORK;VOICE`, `;QUOTED-PRINTABLE`, `;UTF-8`
			bare = item[0].upper()
			if bare in ("QUOTED-PRINTABLE", "BASE64", "8BIT", "7BIT", "B"):
				params.setdefault("ENCODING", []).append(bare)
			elif bare.startswith(("UTF-", "ISO-", "WINDOWS-")):
				params.setdefault("CHARSET", []).append(bare)
			else:
				types.add(bare)
			continue
		name = item[0].upper()
		values = [v for value in item[1:] for v in value.split(",")]
		params.setdefault(name, []).extend(values)
		if name == "TYPE":
			types.update(v.strip().upper() for v in values if v.strip())
	return params, types


def parse_property(line: bytes, fallback_encoding: str) -> Property:
	"""One logical line as a Property with its value decoded. Raises VCardError (saying why) when the
	line is not a property or its value does not decode."""
	try:
		text = line.decode("utf-8")
		undecoded = False
	except UnicodeDecodeError:
		text = line.decode("latin-1")  # bytes as they are; the value is decoded below by its charset
		undecoded = True
	head, colon, value = text.partition(":")
	if colon and _SIMPLE_NAME.fullmatch(head):  # `NAME:value`, most lines: nothing for vobject to parse
		name, raw_params, group = head, (), None
	else:
		try:
			name, raw_params, value, group = parseLine(text)
		except ParseError:
			raise VCardError(_("it is not a vCard property")) from None
	params, types = _parse_params(raw_params)
	charset = (params.get("CHARSET") or [None])[0]
	encoding = (params.get("ENCODING") or [""])[0].upper()
	if encoding == "QUOTED-PRINTABLE":
		data = quopri.decodestring(value.encode("latin-1" if undecoded else "utf-8"))
		value = _decode(data, charset, fallback_encoding, _("quoted-printable value"))
	elif undecoded:
		value = _decode(value.encode("latin-1"), charset, fallback_encoding, _("value"))
	return Property(group.upper() if group else None, name.upper(), params, types, value)


def _decode(data: bytes, charset: str | None, fallback: str, what: str) -> str:
	"""Bytes of a value: in its CHARSET, else UTF-8, else the file's chosen legacy encoding."""
	candidates = [charset] if charset else ["utf-8"]
	if not charset and fallback and fallback.replace("-sig", "") not in ("utf-8", "utf_8"):
		candidates.append(fallback)
	for encoding in candidates:
		try:
			return data.decode(encoding)
		except LookupError:
			raise VCardError(_("the {0} names an unknown charset {1}").format(what, encoding)) from None
		except UnicodeDecodeError:
			continue
	raise VCardError(_("the {0} does not decode as {1}").format(what, " / ".join(candidates)))


# ---------------------------------------------------------------- properties → card


def _kind(types: set[str], table, default: str = "Other") -> str:
	types = {PHONE_TYPE_ALIASES.get(t, t) for t in types}
	for key, kind in table:
		if key in types:
			return kind
	return default


def _label_types(label: str) -> set[str]:
	"""Types named by an X-ABLabel (`_$!<Mobile>!$_`, `_$!<HomeFAX>!$_`, or a label of one's own)."""
	match = _APPLE_LABEL.match(label.strip())
	word = (match.group(1) if match else label).strip().upper().replace(" ", "")
	return {PHONE_TYPE_ALIASES.get(word, word)}


def _first_line_of(values: list[str]) -> str:
	return next((v for v in values if v), "")


def build_card(card: Card, props: list[Property]):
	"""Fill `card` from its properties, in card order."""
	labels = {p.group: p.value for p in props if p.name == "X-ABLABEL" and p.group}
	for prop in props:
		name, value = prop.name, prop.value
		types = prop.types
		if prop.group in labels:
			types = types | _label_types(labels[prop.group])
		if name == "FN":
			card.full_name = card.full_name or _unescape(value).strip()
		elif name == "N":
			if not (card.first_name or card.last_name):
				parts = [_name_part(p) for p in _split_raw(value, ";")] + [""] * 5
				card.last_name, card.first_name, card.middle_name, card.prefix, card.suffix = parts[:5]
		elif name == "ORG":
			if not card.organization:
				parts = [p.strip() for p in _split_structured(value)]
				card.organization = parts[0]
				card.department = ", ".join(p for p in parts[1:] if p)
		elif name == "TITLE":
			card.title = card.title or _unescape(value).strip()
		elif name == "EMAIL":
			email = _unescape(value).strip()
			if email.lower().startswith("mailto:"):
				email = email[7:].strip()
			if email:
				card.emails.append(Entry(email, _kind(types, EMAIL_TYPES), prop.preferred))
		elif name == "TEL":
			phone = _unescape(value).strip()
			if phone.lower().startswith("tel:"):
				phone = phone[4:].strip()
			if phone:
				card.phones.append(Entry(phone, _kind(types, PHONE_TYPES), prop.preferred))
		elif name == "ADR":
			parts = [p.strip() for p in _split_structured(value)] + [""] * 7
			_pobox, extended, street, city, region, code, country = parts[:7]
			street = "\n".join(p for p in (street, extended, _pobox) if p)
			if street or city or code or country:
				card.addresses.append(
					PostalAddress(
						_kind(types, ADDRESS_TYPES), street, city, region, code, country, prop.preferred
					)
				)
		elif name == "NOTE":
			note = _unescape(value).strip()
			if note:
				card.note = f"{card.note}\n{note}" if card.note else note
		elif name == "URL":
			card.website = card.website or _unescape(value).strip()
		elif name == "UID":
			card.uid = card.uid or value.strip()
	if not card.full_name:
		card.full_name = " ".join(
			p for p in (card.prefix, card.first_name, card.middle_name, card.last_name, card.suffix) if p
		)
	if not card.has_name():
		card.error = _("Card {0} (line {1}) has no name: it has neither FN nor N.").format(
			card.number, card.line
		)


# ---------------------------------------------------------------- the file


def iter_cards(lines: Iterator[tuple[int, bytes]], fallback_encoding: str = "utf-8") -> Iterator[Card]:
	"""The cards of the file, in order. A card cut off (no END:VCARD before the next BEGIN:VCARD or the
	end of the file) comes with its `error`; a line that is not a property or doesn't decode is left
	out with a warning on its card."""
	card: Card | None = None
	props: list[Property] = []
	count = 0
	for number, line in lines:
		stripped = line.strip()
		if not stripped:
			continue
		size = len(stripped)
		if size == 11 and stripped.upper() == b"BEGIN:VCARD":
			if card is not None:
				build_card(card, props)
				card.error = _(
					"Card {0} (line {1}) is cut off: a new card begins on line {2} before its END:VCARD."
				).format(card.number, card.line, number)
				yield card
			count += 1
			card, props = Card(number=count, line=number), []
			continue
		if card is None:
			continue  # outside a card
		if size == 9 and stripped.upper() == b"END:VCARD":
			build_card(card, props)
			yield card
			card = None
			continue
		if stripped[:1] in _MAYBE_SKIPPED or b"." in stripped[:16]:
			head = stripped.split(b":", 1)[0]
			if head.split(b";", 1)[0].rsplit(b".", 1)[-1].upper() in SKIPPED:
				continue
		try:
			prop = parse_property(stripped, fallback_encoding)
		except VCardError as e:
			shown = stripped[:60].decode("utf-8", errors="replace").replace("\ufffd", "?")
			card.warnings.append(_("Line {0} ({1}…) was left out: {2}.").format(number, shown, e))
			continue
		if prop.name == "VERSION":
			card.version = prop.value.strip()
		else:
			props.append(prop)
	if card is not None:
		build_card(card, props)
		card.error = _("Card {0} (line {1}) is cut off: the file ends before its END:VCARD.").format(
			card.number, card.line
		)
		yield card


def count_cards(path: str) -> int:
	"""How many cards the file holds (its BEGIN:VCARD lines), without reading them."""
	with open(path, "rb") as f:
		return sum(1 for line in _physical_lines(f) if len(line) == 11 and line.upper() == b"BEGIN:VCARD")


def check(path: str):
	"""Refuse a file that holds no vCard at all (a CSV renamed .vcf, say), before anything is written."""
	with open(path, "rb") as f:
		for _number, line in logical_lines(f):
			if line.strip().upper() == b"BEGIN:VCARD":
				return
	frappe.throw(
		_("The file holds no vCard: no line BEGIN:VCARD. Is it a vCard (.vcf) file?"),
		exc=VCardFileError,
	)


class VCardFileError(VCardError):
	pass


def iter_rows(path: str, encoding: str | None = None) -> Iterator[tuple[int, list]]:
	"""Row 1 is the header (`COLUMNS`), then one `CardRow` per card: card n is row n + 1."""
	yield 1, list(COLUMNS)
	card_cell = _("card {0}, line {1}")
	with open(path, "rb") as f:
		for card in iter_cards(logical_lines(f), encoding or "utf-8"):
			row = CardRow(card.cells(card_cell))
			row.card = card
			yield card.number + 1, row
