"""CSV (and .txt, .tsv): any of , ; | tab as delimiter, quoted newlines, CRLF/LF/CR, BOM, legacy
encodings; Vtiger 7's header with a space after each delimiter."""

import csv
from collections.abc import Iterator

import frappe
from frappe import _

from opportunity_suite.services.importing.formats.base import FileFormat, ImportFileError
from opportunity_suite.services.importing.formats.text import SNIFF_BYTES, check_decodes, check_not_utf8

CSV_DELIMITERS = {",": ",", ";": ";", "|": "|", "Tab": "\t", "\t": "\t"}
csv.field_size_limit(10 * 1024 * 1024)


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


class CSVFormat(FileFormat):
	kind = "CSV"
	extensions = ("csv", "txt", "tsv")

	def __init__(self, path: str, encoding: str | None = None, delimiter=None, sheet_name=None):
		super().__init__(path, encoding, delimiter, sheet_name)
		self.delimiter = csv_delimiter(delimiter, self.path, self.encoding)

	def __iter__(self) -> Iterator[tuple[int, list]]:
		return iter_csv(self.path, self.encoding, self.delimiter)

	def check(self):
		check_decodes(self.path, self.encoding)
		check_not_utf8(self.path, self.encoding)
		check_csv_quotes(self.path, self.encoding, self.delimiter)
		self.check_has_rows()
