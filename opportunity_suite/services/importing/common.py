"""What the parts of an Opportunity Import run share: the DocTypes, the run's limits, and the shape of a
failed row."""

import html
import re

from frappe import _
from frappe.utils import cstr

DOCTYPE = "Opportunity"
IMPORT_DOCTYPE = "Opportunity Import"
BATCH_DOCTYPE = "Opportunity Import Batch"
BATCH_SIZE = 2500
FAILED_REASON_HEADER = "Import Error"
FAILED_ROW_HEADER = "Import Row"  # the failed-rows file's row numbers (of the file imported)
PROGRESS_FIELDS = (
	"status",
	"total_rows",
	"rows_read",
	"created_count",
	"updated_count",
	"skipped_count",
	"failed_count",
)
POLICIES = ("None", "Skip", "Overwrite", "Merge")


class Superseded(Exception):
	"""Another run (a resume) took over this import: this one stops quietly."""


class RowError(Exception):
	"""A row that can't be imported; `cells`: fieldname → what is wrong with that field's cell (the
	preview marks those cells)."""

	def __init__(self, message: str = "", cells: dict[str, str] | None = None):
		super().__init__(message)
		self.cells = cells or {}


def failed_row(row_no: int, row: list, reason: str) -> list:
	return [row_no, [plain(v) for v in row], cstr(reason)]


def has_values(row) -> bool:
	return any(v not in (None, "") and (not isinstance(v, str) or v.strip()) for v in row)


def plain(value):
	if value is None or isinstance(value, str | int | float):
		return value
	return cstr(value)


# the formatting Frappe's messages carry (frappe.bold, line breaks, links): tags only, never a `<` of the
# text itself (a name with `<` in it, or Frappe's "special characters like '<', '>'")
_FORMAT_TAGS = re.compile(r"</?(?:b|strong|i|em|u|br|p|div|span|a|ul|ol|li|code|pre|h[1-6])\b[^<>]*>", re.I)


def readable(error) -> str:
	"""A row's failure as plain text: Frappe's formatting removed, entities decoded, the text kept."""
	text = _FORMAT_TAGS.sub(" ", cstr(error))
	text = " ".join(html.unescape(text).split())
	return text or _("{0} while importing this row").format(type(error).__name__)
