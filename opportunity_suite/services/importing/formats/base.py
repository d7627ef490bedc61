"""What an import file format provides (`FileFormat`), and what every format shares: the error a file
can't be read with, opening a file through its File document, the check that a row lines up with the
header, the header and the "no rows" check.

A format is a subclass naming its `kind` (the import's File Kind) and `extensions` and reading its rows
as `(row_no, cells)`, row 1 the header; defining it in a module of this package registers it
(`formats/__init__.py`)."""

from collections.abc import Iterator

import frappe
from frappe import _

from opportunity_suite.services.importing.file_access import check_can_read


class ImportFileError(frappe.ValidationError):
	pass


class RowShapeError(ValueError):
	"""A record whose cells can't be lined up with the header."""


def file_path(file_url: str) -> str:
	"""The on-disk path of an uploaded file, through its File document."""
	name = frappe.db.get_value("File", {"file_url": file_url}, "name")
	if not name:
		frappe.throw(_("The file {0} was not found.").format(file_url), exc=ImportFileError)
	check_can_read(file_url)  # only files the user may read (file_access.py)
	return frappe.get_doc("File", name).get_full_path()


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


class FileFormat:
	"""One import file of one format, with the import's settings for it. A format provides:

	- `kind` and `extensions` (lower case, no dot): how the registry finds it;
	- `__iter__`: `(row_no, cells)` from row 1, the header (a format without a header row yields its
	  fixed one first);
	- `check()`: everything about the file that would stop a run, before anything is written;
	and may change what the flags and hooks below say for a plain table of cells."""

	kind: str = ""
	extensions: tuple[str, ...] = ()
	text = True  # read through an encoding (detected, or chosen on the form)
	has_column_map = True  # False: its rows come with fixed fields (a vCard's): nothing to map
	short_rows_allowed = False  # a row may have fewer cells than the header (a sheet's row keeps its columns)
	preview_fields: tuple[str, ...] = ()  # fields the preview shows besides the mapped ones
	# each row brings a Contact along (a vCard's card): made or matched with its opportunity, a batch at once
	rows_make_contacts = False
	# the organizations its rows name are made when missing, whatever the import's "Create Missing
	# Organizations" says (a card's ORG: the card is the organization's only source)
	makes_missing_organizations = False

	def __init__(self, path: str, encoding: str | None = None, delimiter=None, sheet_name=None):
		from opportunity_suite.services.importing.formats.text import normalise_encoding

		self.path = path
		self.encoding = normalise_encoding(encoding) if self.text else None
		self.delimiter = None
		self.sheet_name = sheet_name

	# -------------------------------------------------------- what each format provides

	def __iter__(self) -> Iterator[tuple[int, list]]:
		raise NotImplementedError

	def check(self):
		self.check_has_rows()

	# -------------------------------------------------------- what a table of cells does

	def check_row(self, row: list, width: int):
		"""RowShapeError when the row's cells can't be lined up with the header's `width` columns."""
		check_row_shape(row, width, short_allowed=self.short_rows_allowed)

	def record(self, run, row: list) -> dict:
		"""The row's field values (RowError naming what is wrong), through the run's column map."""
		return run.row_values(row)

	def defaults(self) -> dict:
		"""Field values a run of this format starts with, under the import's own defaults."""
		return {}

	def count_rows(self) -> int:
		"""How many data rows the file has (empty rows left out)."""
		return sum(1 for row_no, row in self if row_no > 1 and any(_filled(v) for v in row))

	def check_has_rows(self):
		headers = self.headers()
		for row_no, row in self:
			if row_no > 1 and any(_filled(v) for v in row):
				return
		frappe.throw(
			_("The file has no rows: it has only its header ({0}).").format(
				", ".join(h for h in headers if h)
			),
			exc=ImportFileError,
			title=_("No rows"),
		)

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
