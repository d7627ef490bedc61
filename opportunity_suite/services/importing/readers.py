"""Reading import files as a stream of rows: CSV (any of , ; | tab, quoted newlines, CRLF/LF/CR, BOM,
legacy encodings), XLSX (openpyxl read-only, one sheet) and VCF (each card a row of properties).

Every reader yields `(row_no, values)` with row_no counted from 1 for the header; `headers()` gives the
header row. Files are opened through their File document, never from a path a user typed."""

import codecs
import csv
import datetime
import re
from collections.abc import Iterator

import frappe
from frappe import _

from opportunity_suite.services.importing import values, vcard
from opportunity_suite.services.importing.file_access import check_can_read

CSV_DELIMITERS = {",": ",", ";": ";", "|": "|", "Tab": "\t", "\t": "\t"}
SNIFF_BYTES = 64 * 1024
csv.field_size_limit(10 * 1024 * 1024)


class ImportFileError(frappe.ValidationError):
	pass


def file_kind(file_name: str) -> str:
	extension = (file_name or "").rsplit(".", 1)[-1].lower()
	kinds = {"csv": "CSV", "txt": "CSV", "tsv": "CSV", "xlsx": "XLSX", "vcf": "VCF", "vcard": "VCF"}
	if extension not in kinds:
		frappe.throw(
			_("Unsupported file type .{0}: use a CSV, XLSX or VCF file.").format(extension),
			exc=ImportFileError,
		)
	return kinds[extension]


def file_path(file_url: str) -> str:
	"""The on-disk path of an uploaded file, through its File document."""
	name = frappe.db.get_value("File", {"file_url": file_url}, "name")
	if not name:
		frappe.throw(_("The file {0} was not found.").format(file_url), exc=ImportFileError)
	check_can_read(file_url)  # only files the user may read (file_access.py)
	return frappe.get_doc("File", name).get_full_path()


# ---------------------------------------------------------------- encodings


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


# ---------------------------------------------------------------- CSV


def detect_delimiter(path: str, encoding: str) -> str:
	"""The candidate (, ; | tab) found most often in the header record, outside quotes: headers rarely
	contain a delimiter, data cells often do. Falls back to csv.Sniffer, then to a comma."""
	try:
		with open(path, encoding=encoding, errors="replace", newline="") as f:
			sample = f.read(SNIFF_BYTES)
	except UnicodeError:  # UTF-16 without a byte order mark: check_decodes says so
		return ","
	header, in_quotes = [], False
	for char in sample:
		if char == '"':
			in_quotes = not in_quotes
		elif char in "\r\n" and not in_quotes:
			break
		header.append(char)
	counts = {d: 0 for d in ",;|\t"}
	in_quotes = False
	for char in header:
		if char == '"':
			in_quotes = not in_quotes
		elif char in counts and not in_quotes:
			counts[char] += 1
	best = max(counts, key=counts.get)
	if counts[best]:
		return best
	try:
		return csv.Sniffer().sniff(sample, delimiters=",;|\t").delimiter
	except csv.Error:
		return ","


def csv_delimiter(choice: str | None, path: str, encoding: str) -> str:
	if not choice or choice == "Auto":
		return detect_delimiter(path, encoding)
	if choice not in CSV_DELIMITERS:
		frappe.throw(_("Unsupported delimiter {0}.").format(choice), exc=ImportFileError)
	return CSV_DELIMITERS[choice]


def iter_csv(path: str, encoding: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
	"""Records of the CSV file (quoted fields may hold newlines and delimiters), numbered from 1.

	The header record is read skipping the spaces after a delimiter: Vtiger 7 writes its header as
	`"A", "B", "C"`, so that every header after the first starts with a space before its quote (its data
	rows are `"a","b","c"`). Data records keep every character."""
	with open(path, encoding=encoding, newline="") as f:
		# the two readers share the file: a csv reader takes one line at a time from it
		header_reader = csv.reader(f, delimiter=delimiter, skipinitialspace=True, strict=False)
		reader = header_reader
		try:
			header = next(header_reader, None)
			if header is None:
				return
			yield 1, header
			reader = csv.reader(f, delimiter=delimiter, quotechar='"', doublequote=True, strict=False)
			yield from enumerate(reader, start=2)
		except csv.Error as e:
			frappe.throw(
				_("The CSV file is malformed near line {0}: {1}").format(reader.line_num, e),
				exc=ImportFileError,
			)
		except UnicodeError as e:
			frappe.throw(
				_("The file is not valid {0} near line {1}: {2}").format(encoding, reader.line_num, e),
				exc=ImportFileError,
			)


def check_csv_quotes(path: str, encoding: str, delimiter: str):
	"""A quote that never closes makes its record swallow the rest of the file: refuse the file, naming
	the line where that record starts, before anything is written."""
	with open(path, encoding=encoding, newline="") as f:
		lines_before = 0  # physical lines read by the readers before the current one
		while True:
			reader = csv.reader(f, delimiter=delimiter, strict=True)
			try:
				start = 1
				for _record in reader:
					start = reader.line_num + 1
				return
			except csv.Error as e:
				if "unexpected end of data" not in str(e):
					# another kind of malformation, read leniently as before: go on after that line
					lines_before += reader.line_num
					continue
				line = lines_before + start
				frappe.throw(
					_(
						"The CSV file has a quote that never closes: the record starting on line {0} "
						"runs to the end of the file. Close the quote (or remove it) and start again; "
						"nothing was imported."
					).format(line),
					exc=ImportFileError,
					title=_("Unclosed quote"),
				)


class RowShapeError(ValueError):
	"""A record whose cells can't be lined up with the header."""


def _filled(cell) -> bool:
	return cell not in (None, "") and (not isinstance(cell, str) or bool(cell.strip()))


def check_row_shape(row: list, width: int, short_allowed: bool = False):
	"""A CSV record with fewer cells than the header can't be told from a shifted row (an XLSX row's
	cells keep their columns: `short_allowed`); cells beyond the header are allowed only when empty. A
	cell holding U+FFFD was damaged by an earlier conversion."""
	if len(row) < width and not short_allowed:
		raise RowShapeError(
			_(
				"The row has {0} cells but the header has {1}: a missing cell can't be told apart from a "
				"shifted row"
			).format(len(row), width)
		)
	if len(row) > width and any(_filled(cell) for cell in row[width:]):
		raise RowShapeError(
			_("The row has {0} non-empty cells beyond the header's {1} columns").format(
				sum(1 for cell in row[width:] if _filled(cell)), width
			)
		)
	try:
		text = "".join(row)  # a CSV row: all text
	except TypeError:
		text = "".join(cell for cell in row if type(cell) is str)
	if "\ufffd" in text:
		raise RowShapeError(
			_("The row holds the replacement character U+FFFD (a character lost by an earlier conversion)")
		)


# ---------------------------------------------------------------- XLSX


def _cell(value):
	if isinstance(value, datetime.datetime):
		return value.date() if value.time() == datetime.time() else value
	return value


def _xlsx_cell(cell):
	"""A cell's value; a number formatted as a percentage (shown 25 %, stored 0.25) as a PercentCell."""
	value = cell.value
	if type(value) in (int, float) and "%" in (getattr(cell, "number_format", None) or ""):
		return values.PercentCell(value)
	return _cell(value)


def iter_xlsx(path: str, sheet_name: str | None = None) -> Iterator[tuple[int, list]]:
	import openpyxl

	try:
		workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
	except Exception as e:
		frappe.throw(_("The file is not a readable XLSX workbook: {0}").format(e), exc=ImportFileError)
	try:
		if sheet_name:
			if sheet_name not in workbook.sheetnames:
				frappe.throw(
					_("The workbook has no sheet {0} (it has: {1}).").format(
						sheet_name, ", ".join(workbook.sheetnames)
					),
					exc=ImportFileError,
				)
			sheet = workbook[sheet_name]
		else:
			sheet = workbook.worksheets[0]
		for row_no, row in enumerate(sheet.iter_rows(), start=1):
			yield row_no, [_xlsx_cell(c) for c in row]
	finally:
		workbook.close()


# ---------------------------------------------------------------- one entry point


class FileRows:
	"""The rows of one import file with its settings: header first, then data rows."""

	def __init__(
		self,
		file_url: str,
		kind: str | None = None,
		encoding: str | None = None,
		delimiter=None,
		sheet_name=None,
	):
		self.path = file_path(file_url)
		self.kind = kind or file_kind(file_url)
		self.encoding = normalise_encoding(encoding) if self.kind != "XLSX" else None
		self.sheet_name = sheet_name
		self.delimiter = csv_delimiter(delimiter, self.path, self.encoding) if self.kind == "CSV" else None

	def check(self):
		"""Everything about the file that would stop a run, found before anything is written."""
		if self.kind == "CSV":
			check_decodes(self.path, self.encoding)
			check_not_utf8(self.path, self.encoding)
			check_csv_quotes(self.path, self.encoding, self.delimiter)
		elif self.kind == "VCF":  # decoded value by value, after unfolding: see vcard.py
			vcard.check(self.path)
		if self.kind != "VCF":
			self.check_has_rows()

	def check_has_rows(self):
		headers = self.headers()
		for row_no, row in self:
			if row_no > 1 and any(v not in (None, "") and (not isinstance(v, str) or v.strip()) for v in row):
				return
		frappe.throw(
			_("The file has no rows: it has only its header ({0}).").format(
				", ".join(h for h in headers if h)
			),
			exc=ImportFileError,
			title=_("No rows"),
		)

	def __iter__(self) -> Iterator[tuple[int, list]]:
		if self.kind == "CSV":
			return iter_csv(self.path, self.encoding, self.delimiter)
		if self.kind == "XLSX":
			return iter_xlsx(self.path, self.sheet_name)
		return vcard.iter_rows(self.path, self.encoding)

	def headers(self) -> list[str]:
		"""The header row, without the empty headers it ends with (a spreadsheet's trailing `,,,` or
		unused columns): cells under them must be empty (`check_row_shape`)."""
		for _row_no, row in self:
			headers = [str(v).strip() if v is not None else "" for v in row]
			while headers and not headers[-1]:
				headers.pop()
			if headers:
				return headers
			break
		frappe.throw(
			_("The file has no rows: it is empty (or its first line is)."),
			exc=ImportFileError,
			title=_("No rows"),
		)

	def preview(self, rows: int = 5) -> list[list]:
		out = []
		for row_no, row in self:
			if row_no > rows + 1:
				break
			out.append(row)
		return out[1:]
