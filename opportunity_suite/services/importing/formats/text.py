"""Text files' encodings: the one a file is read with (`normalise_encoding`), a suggestion for it
(`detect_encoding`), and the checks made before anything is written: every byte decodes (`check_decodes`,
naming the line), and a UTF-8 file isn't read in a Latin code page (`check_not_utf8`)."""

import codecs
import re

import frappe
from frappe import _

from opportunity_suite.services.importing.formats.base import ImportFileError

SNIFF_BYTES = 64 * 1024


def normalise_encoding(encoding: str | None) -> str:
	encoding = (encoding or "").strip() or "utf-8"
	try:
		name = codecs.lookup(encoding).name
	except LookupError:
		frappe.throw(_("Unknown encoding {0}.").format(encoding), exc=ImportFileError)
	# UTF-8 with or without BOM
	return "utf-8-sig" if name in ("utf-8", "utf-8-sig") else name


def detect_encoding(path: str) -> str:
	"""A suggestion for the file's encoding: UTF-8 when the start decodes as UTF-8, Windows-1252 when
	that gives printable text, else what charset_normalizer (shipped with requests) thinks."""
	with open(path, "rb") as f:
		sample = f.read(SNIFF_BYTES)
	if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
		return "utf-16"
	try:
		codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
		return "utf-8"
	except UnicodeDecodeError:
		pass
	if looks_like_utf8(sample):
		return "utf-8"  # UTF-8 text with a stray byte: the byte is the error, not the encoding
	# a short sample fits many single-byte code pages: prefer Windows-1252 (Excel's CSV on Western
	# Windows) when it decodes the sample to printable text, else ask charset_normalizer
	try:
		text = sample.decode("cp1252")
		if not any(ord(c) < 32 and c not in "\t\r\n" for c in text):
			return "cp1252"
	except UnicodeDecodeError:
		pass
	try:
		import charset_normalizer

		best = charset_normalizer.from_bytes(sample).best()
		if best and best.encoding:
			return codecs.lookup(best.encoding).name
	except ImportError:
		pass
	return "cp1252"


_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
_HIGH_BYTE = re.compile(rb"[\x80-\xff]")


def looks_like_utf8(sample: bytes) -> bool:
	"""Are most of the sample's non-ASCII bytes well-formed UTF-8 sequences? A UTF-8 file with one bad
	byte is still UTF-8: read as Windows-1252 every other accent would turn into mojibake (`ZÃ¼rich`)."""
	sequences = _UTF8_MULTIBYTE.findall(sample)
	if not sequences:
		return False
	in_sequences = sum(len(s) for s in sequences)
	return in_sequences >= 0.8 * len(_HIGH_BYTE.findall(sample))


SINGLE_BYTE_LATIN = ("cp1252", "latin-1", "iso8859-1", "iso8859-15", "cp1250", "iso8859-2", "mac-roman")


def check_not_utf8(path: str, encoding: str):
	"""A file that is valid UTF-8 with accents, read in a single-byte Latin code page, would be stored as
	mojibake (`Zürich` → `ZÃ¼rich`): refuse it, saying which encoding it is."""
	if codecs.lookup(encoding).name not in {codecs.lookup(e).name for e in SINGLE_BYTE_LATIN}:
		return
	decoder = codecs.getincrementaldecoder("utf-8")()
	multibyte = False
	with open(path, "rb") as f:
		while chunk := f.read(1 << 20):
			try:
				decoder.decode(chunk, final=False)
			except UnicodeDecodeError:
				return  # not UTF-8: the chosen code page may be right
			multibyte = multibyte or not chunk.isascii()
		try:
			decoder.decode(b"", final=True)
		except UnicodeDecodeError:
			return
	if multibyte:
		frappe.throw(
			_(
				"The file is UTF-8, not {0}: read as {0} its accents would be stored garbled (Zürich as "
				"ZÃ¼rich). Choose UTF-8 as the encoding."
			).format(encoding),
			exc=ImportFileError,
			title=_("Encoding error"),
		)


def check_decodes(path: str, encoding: str):
	"""Decode the whole file once before anything is written; a byte that does not decode stops the
	run with the line (and byte) where it is."""
	decoder = codecs.getincrementaldecoder(encoding)()
	line = 1
	offset = 0
	with open(path, "rb") as f:
		while chunk := f.read(1 << 20):
			try:
				decoder.decode(chunk, final=False)
			except UnicodeDecodeError as e:
				bad = offset + e.start
				f.seek(0)
				before = f.read(bad)
				line = before.count(b"\n") + 1 if b"\n" in before else before.count(b"\r") + 1
				suggested = detect_encoding(path)
				if codecs.lookup(suggested).name == codecs.lookup(encoding).name or (
					suggested == "utf-8" and encoding == "utf-8-sig"
				):
					frappe.throw(
						_(
							"The file is {0}, but the byte 0x{1} on line {2} (byte {3}) is not: that line "
							"was damaged (by an editor or a copy in another encoding). Correct or remove "
							"line {2} and start again; nothing was imported."
						).format(
							encoding.replace("utf-8-sig", "UTF-8"), "%02X" % e.object[e.start], line, bad + 1
						),
						exc=ImportFileError,
						title=_("Encoding error"),
					)
				frappe.throw(
					_(
						"The file is not valid {0}: the byte 0x{1} on line {2} (byte {3}) does not decode. "
						"Choose the file's encoding (suggested: {4}) and start again."
					).format(
						encoding.replace("utf-8-sig", "UTF-8"),
						"%02X" % e.object[e.start],
						line,
						bad + 1,
						suggested,
					),
					exc=ImportFileError,
					title=_("Encoding error"),
				)
			except UnicodeError as e:  # e.g. UTF-16 without a byte order mark
				frappe.throw(_("The file is not valid {0}: {1}").format(encoding, e), exc=ImportFileError)
			offset += len(chunk)
		try:
			decoder.decode(b"", final=True)
		except UnicodeError:
			frappe.throw(
				_("The file is not valid {0}: it ends in the middle of a character.").format(encoding),
				exc=ImportFileError,
			)
