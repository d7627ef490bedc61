"""Reading import files as a stream of rows: CSV (any of , ; | tab, quoted newlines, CRLF/LF/CR, BOM,
legacy encodings), XLSX (openpyxl read-only, one sheet) and VCF (each card a row of properties).

Every reader yields `(row_no, values)` with row_no counted from 1 for the header; `headers()` gives the
header row. Files are opened through their File document, never from a path a user typed."""

import codecs
import csv
import datetime
from collections.abc import Iterator

import frappe
from frappe import _

from opportunity_suite.services.importing import vcard
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
				frappe.throw(
					_(
						"The file is not valid {0}: the byte 0x{1} on line {2} (byte {3}) does not decode. "
						"Choose the file's encoding (suggested: {4}) and start again."
					).format(
						encoding.replace("utf-8-sig", "UTF-8"),
						"%02X" % e.object[e.start],
						line,
						bad + 1,
						detect_encoding(path),
					),
					exc=ImportFileError,
					title=_("Encoding error"),
				)
			offset += len(chunk)
		try:
			decoder.decode(b"", final=True)
		except UnicodeDecodeError:
			frappe.throw(
				_("The file is not valid {0}: it ends in the middle of a character.").format(encoding),
				exc=ImportFileError,
			)


# ---------------------------------------------------------------- CSV


def detect_delimiter(path: str, encoding: str) -> str:
	"""The candidate (, ; | tab) found most often in the header record, outside quotes: headers rarely
	contain a delimiter, data cells often do. Falls back to csv.Sniffer, then to a comma."""
	with open(path, encoding=encoding, errors="replace", newline="") as f:
		sample = f.read(SNIFF_BYTES)
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
	"""Records of the CSV file (quoted fields may hold newlines and delimiters), numbered from 1."""
	with open(path, encoding=encoding, newline="") as f:
		reader = csv.reader(f, delimiter=delimiter, quotechar='"', doublequote=True, strict=False)
		try:
			yield from enumerate(reader, start=1)
		except csv.Error as e:
			frappe.throw(
				_("The CSV file is malformed near line {0}: {1}").format(reader.line_num, e),
				exc=ImportFileError,
			)


# ---------------------------------------------------------------- XLSX


def _cell(value):
	if isinstance(value, datetime.datetime):
		return value.date() if value.time() == datetime.time() else value
	return value


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
		for row_no, row in enumerate(sheet.iter_rows(values_only=True), start=1):
			yield row_no, [_cell(v) for v in row]
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
		if self.kind in ("CSV", "VCF"):
			check_decodes(self.path, self.encoding)

	def __iter__(self) -> Iterator[tuple[int, list]]:
		if self.kind == "CSV":
			return iter_csv(self.path, self.encoding, self.delimiter)
		if self.kind == "XLSX":
			return iter_xlsx(self.path, self.sheet_name)
		return vcard.iter_rows(self.path, self.encoding)

	def headers(self) -> list[str]:
		for _row_no, row in self:
			return [str(v).strip() if v is not None else "" for v in row]
		frappe.throw(_("The file is empty."), exc=ImportFileError)

	def preview(self, rows: int = 5) -> list[list]:
		out = []
		for row_no, row in self:
			if row_no > rows + 1:
				break
			out.append(row)
		return out[1:]
