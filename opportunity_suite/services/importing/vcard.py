"""vCard 2.1, 3.0 and 4.0 reading, streamed card by card.

Handles folded lines (a line starting with a space or tab continues the previous one), quoted-printable
values with soft line breaks (2.1), CHARSET parameters, escapes (\\, \\; \\n), grouped properties
(`item1.TEL`), bare 2.1 type parameters (`TEL;WORK;VOICE:`), several TEL/EMAIL/ADR per card. PHOTO, LOGO
and SOUND are skipped. Each card becomes one row with the columns in `COLUMNS`, mapped by property name."""

import quopri
import re
from collections.abc import Iterator

import frappe
from frappe import _

COLUMNS = [
	"Full Name",
	"First Name",
	"Last Name",
	"Organization",
	"Department",
	"Title",
	"Email",
	"Other Emails",
	"Phone",
	"Mobile",
	"Other Phones",
	"Address",
	"Website",
	"Note",
]
SKIPPED = {"PHOTO", "LOGO", "SOUND", "KEY"}
_ESCAPES = re.compile(r"\\(.)", re.S)


class VCardError(frappe.ValidationError):
	pass


def _unescape(text: str) -> str:
	return _ESCAPES.sub(lambda m: "\n" if m.group(1) in "nN" else m.group(1), text)


def _split_unescaped(text: str, separator: str) -> list[str]:
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


def _split_content_line(line: str) -> tuple[str, dict, str]:
	"""`[group.]NAME;params:value` → (NAME, {param: [values]}, raw value). Colons inside quoted
	parameter values do not end the name part."""
	in_quotes = False
	for i, char in enumerate(line):
		if char == '"':
			in_quotes = not in_quotes
		elif char == ":" and not in_quotes:
			head, value = line[:i], line[i + 1 :]
			break
	else:
		return "", {}, ""
	pieces = head.split(";")
	name = pieces[0].rsplit(".", 1)[-1].strip().upper()  # item1.TEL → TEL
	params: dict[str, list[str]] = {}
	for piece in pieces[1:]:
		if "=" in piece:
			key, val = piece.split("=", 1)
			params.setdefault(key.strip().upper(), []).extend(v.strip('"').upper() for v in val.split(","))
		elif piece.strip():  # 2.1 bare parameter: TYPE value or ENCODING
			bare = piece.strip().upper()
			if bare in ("QUOTED-PRINTABLE", "BASE64", "8BIT", "7BIT", "B"):
				params.setdefault("ENCODING", []).append(bare)
			else:
				params.setdefault("TYPE", []).append(bare)
	return name, params, value


def _decode_value(params: dict, value: str, version: str) -> str:
	encoding = (params.get("ENCODING") or [""])[0]
	if encoding == "QUOTED-PRINTABLE":
		charset = (params.get("CHARSET") or ["UTF-8"])[0]
		raw = quopri.decodestring(value.encode("latin-1", errors="replace"))
		try:
			value = raw.decode(charset)
		except (LookupError, UnicodeDecodeError):
			raise VCardError(_("A quoted-printable value does not decode as {0}.").format(charset)) from None
	return value


def _logical_lines(lines: Iterator[str]) -> Iterator[str]:
	"""Unfold continuation lines and quoted-printable soft breaks."""
	current: str | None = None
	qp_open = False
	for raw in lines:
		line = raw.rstrip("\r\n")
		if current is not None and qp_open:
			current = current[:-1] + line.lstrip(" \t") if current.endswith("=") else current + line
			qp_open = current.endswith("=")
			continue
		if current is not None and line[:1] in (" ", "\t"):
			current += line[1:]
			continue
		if current is not None:
			yield current
		current = line
		head = line.split(":", 1)[0].upper()
		qp_open = "QUOTED-PRINTABLE" in head and line.endswith("=")
	if current is not None:
		yield current


def card_to_row(props: list[tuple[str, dict, str]], version: str) -> list[str]:
	values = dict.fromkeys(COLUMNS, "")
	emails, phones, mobiles = [], [], []
	for name, params, raw in props:
		if name in SKIPPED:
			continue
		value = _decode_value(params, raw, version)
		types = {t for t in params.get("TYPE", [])}
		if name == "FN":
			values["Full Name"] = _unescape(value).strip()
		elif name == "N":
			parts = [_unescape(p).strip() for p in _split_unescaped(value, ";")] + ["", ""]
			values["Last Name"], values["First Name"] = parts[0], parts[1]
		elif name == "ORG":
			parts = [_unescape(p).strip() for p in _split_unescaped(value, ";")]
			values["Organization"] = parts[0]
			values["Department"] = ", ".join(p for p in parts[1:] if p)
		elif name == "TITLE":
			values["Title"] = _unescape(value).strip()
		elif name == "EMAIL":
			email = _unescape(value).strip()
			if email.lower().startswith("mailto:"):
				email = email[7:]
			(emails.insert(0, email) if "PREF" in types or params.get("PREF") else emails.append(email))
		elif name == "TEL":
			phone = _unescape(value).strip()
			if phone.lower().startswith("tel:"):
				phone = phone[4:]
			(mobiles if "CELL" in types else phones).append(phone)
		elif name == "ADR" and not values["Address"]:
			parts = [_unescape(p).strip() for p in _split_unescaped(value, ";")]
			values["Address"] = ", ".join(p for p in parts if p)
		elif name == "URL" and not values["Website"]:
			values["Website"] = _unescape(value).strip()
		elif name == "NOTE":
			values["Note"] = _unescape(value).strip()
	if not values["Full Name"]:
		values["Full Name"] = " ".join(p for p in (values["First Name"], values["Last Name"]) if p)
	values["Email"] = emails[0] if emails else ""
	values["Other Emails"] = ", ".join(emails[1:])
	values["Phone"] = phones[0] if phones else ""
	values["Mobile"] = mobiles[0] if mobiles else ""
	values["Other Phones"] = ", ".join(phones[1:] + mobiles[1:])
	return [values[c] for c in COLUMNS]


def iter_cards(lines: Iterator[str]) -> Iterator[list[str]]:
	props: list | None = None
	version = "3.0"
	for line in _logical_lines(lines):
		if not line.strip():
			continue
		name, params, value = _split_content_line(line)
		if name == "BEGIN" and value.strip().upper() == "VCARD":
			props, version = [], "3.0"
		elif name == "END" and value.strip().upper() == "VCARD":
			if props is not None:
				yield card_to_row(props, version)
			props = None
		elif props is not None:
			if name == "VERSION":
				version = value.strip()
			elif name:
				props.append((name, params, value))


def iter_rows(path: str, encoding: str) -> Iterator[tuple[int, list[str]]]:
	"""Row 1 is the header (`COLUMNS`), then one row per card."""
	yield 1, list(COLUMNS)
	with open(path, encoding=encoding, newline="") as f:
		yield from enumerate(iter_cards(f), start=2)
