"""The formats an import file may have, a registry keyed by file kind: CSV, XLSX, VCF, one module each.

A format is a `FileFormat` subclass (base.py says what it provides); every module of this package is
imported here, and a subclass with a `kind` registers itself: a new format is one new file (and its
kind among the File Kind options of Opportunity Import). The run, the form's Detect step and the preview
ask the format, never compare kinds: `open_file(file_url, kind, …)` gives the file's rows."""

import importlib
import pkgutil

import frappe
from frappe import _

from opportunity_suite.services.importing.formats.base import (
	FileFormat,
	ImportFileError,
	RowShapeError,
	check_row_shape,
	file_path,
)

FORMATS: dict[str, type[FileFormat]] = {}  # kind → format, in the order the modules define them


def _register(cls: type[FileFormat]):
	for sub in cls.__subclasses__():
		if sub.kind:
			FORMATS.setdefault(sub.kind, sub)
		_register(sub)


for _module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
	importlib.import_module(f"{__name__}.{_module}")
_register(FileFormat)


def extensions() -> dict[str, str]:
	"""extension → kind, for every registered format."""
	return {extension: kind for kind, cls in FORMATS.items() for extension in cls.extensions}


def format_for(file_name: str) -> type[FileFormat]:
	"""The format of a file, by its name's extension; a clear error for one no format reads."""
	name = (file_name or "").rsplit("/", 1)[-1]
	extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
	known = extensions()
	if extension not in known:
		shown = ", ".join(f".{e}" for e in known)
		if extension:
			message = _("Unsupported file type .{0}: use a file ending in one of {1}.").format(
				extension, shown
			)
		else:
			message = _("The file {0} has no extension: use a file ending in one of {1}.").format(name, shown)
		frappe.throw(message, exc=ImportFileError, title=_("Unsupported file type"))
	return FORMATS[known[extension]]


def file_kind(file_name: str) -> str:
	return format_for(file_name).kind


def format_of_kind(kind: str) -> type[FileFormat]:
	if kind not in FORMATS:
		frappe.throw(_("Unknown file kind {0}.").format(kind), exc=ImportFileError)
	return FORMATS[kind]


def open_file(
	file_url: str, kind: str | None = None, encoding: str | None = None, delimiter=None, sheet_name=None
) -> FileFormat:
	"""The rows of one import file with its settings (header first, then data rows): the file through
	its File document (only one the user may read), read by its kind's format (by default, its name's)."""
	path = file_path(file_url)
	cls = format_of_kind(kind) if kind else format_for(file_url)
	return cls(path, encoding=encoding, delimiter=delimiter, sheet_name=sheet_name)


__all__ = [
	"FORMATS",
	"FileFormat",
	"ImportFileError",
	"RowShapeError",
	"check_row_shape",
	"extensions",
	"file_kind",
	"file_path",
	"format_for",
	"format_of_kind",
	"open_file",
]
