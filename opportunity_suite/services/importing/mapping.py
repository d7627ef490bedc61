"""Column mapping: file headers → Opportunity fields, matched by label or fieldname with case, spaces and
punctuation ignored, then by the label tables of other systems' exports (`labels/`: Vtiger's, in English and
Chinese). Unknown and duplicate headers are never dropped silently: each column is either mapped or
explicitly ignored before a run can start (a label table may offer a column as ignored, e.g. Vtiger's
Weighted Revenue, which the app computes itself)."""

import re

import frappe
from frappe import _

from opportunity_suite.services.importing import labels

DOCTYPE = "Opportunity"
# computed by the same code a save runs; never taken from a file
COMPUTED_FIELDS = frozenset(
	{"forecast_amount", "base_forecast_amount", "base_amount", "status", "closed_on", "amount_from_items"}
)
SKIP_FIELDTYPES = frozenset(
	{
		"Section Break",
		"Column Break",
		"Tab Break",
		"HTML",
		"Button",
		"Fold",
		"Heading",
		"Image",
		"Table",
		"Table MultiSelect",
		"Attach",
		"Attach Image",
		"Signature",
		"Geolocation",
	}
)


class MappingError(frappe.ValidationError):
	pass


def normalise_header(text: str) -> str:
	return re.sub(r"[\W_]+", "", str(text or "")).casefold()


def importable_fields() -> dict[str, "frappe._dict"]:
	"""fieldname → docfield of every Opportunity field a file may fill (plus `name`, the ID): the one list
	of what an import may write. Read-only fields (set by the app: forecast, status, conversion, source
	lead) and the computed ones never come from a file."""
	meta = frappe.get_meta(DOCTYPE)
	fields = {
		"name": frappe._dict(fieldname="name", label="ID", fieldtype="Data", options=None),
	}
	for df in meta.fields:
		if df.fieldtype in SKIP_FIELDTYPES or df.fieldname in COMPUTED_FIELDS or df.read_only:
			continue
		fields[df.fieldname] = df
	from opportunity_suite.services.importing import competitors

	if df := competitors.docfield(meta):  # a table, filled from one column of names (competitors.py)
		fields[df.fieldname] = df
	return fields


def importable_field_options() -> list[dict]:
	"""The importable fields as a select offers them: {value: fieldname, label: translated label}, by label;
	a label two fields share names its fieldname too."""
	fields = importable_fields()
	labels_seen: dict[str, int] = {}
	for df in fields.values():
		label = _(df.label or df.fieldname)
		labels_seen[label] = labels_seen.get(label, 0) + 1
	options = []
	for fieldname, df in fields.items():
		label = _(df.label or fieldname)
		options.append(
			{"value": fieldname, "label": f"{label} ({fieldname})" if labels_seen[label] > 1 else label}
		)
	return sorted(options, key=lambda o: o["label"].casefold())


def auto_match(headers: list[str], template_columns: list | None = None) -> list[dict]:
	"""One column row per header: the template's choice for the same header first, then a field whose
	label or fieldname matches, then the label tables (a header they list as ignored is ignored). A
	second column matching a field already taken stays unmapped."""
	fields = importable_fields()
	known_labels = labels.header_lookup(normalise_header)
	lookup: dict[str, str] = {}
	for fieldname, df in fields.items():
		lookup.setdefault(normalise_header(fieldname), fieldname)
		if df.label:
			lookup.setdefault(normalise_header(_(df.label)), fieldname)
			lookup.setdefault(normalise_header(df.label), fieldname)
	saved = {}
	for column in template_columns or []:
		saved.setdefault(normalise_header(column.get("header")), column)
	taken: set[str] = set()
	columns = []
	for number, header in enumerate(headers, start=1):
		key = normalise_header(header)
		row = {"column_no": number, "header": header, "fieldname": None, "ignore": 0}
		if key in saved:
			row["fieldname"] = saved[key].get("fieldname")
			row["ignore"] = saved[key].get("ignore") or 0
		elif key in lookup and lookup[key] not in taken:
			row["fieldname"] = lookup[key]
		elif key in known_labels:
			fieldname = known_labels[key]
			if fieldname is None:
				row["ignore"] = 1
			elif fieldname in fields and fieldname not in taken:
				row["fieldname"] = fieldname
		if row["fieldname"] in taken:
			row["fieldname"] = None
			row["ignore"] = 0
		if row["fieldname"]:
			taken.add(row["fieldname"])
		columns.append(row)
	return columns


def validate_columns(columns: list, headers: list[str]) -> dict[int, str]:
	"""{column index (0-based): fieldname} or MappingError naming every column that needs a decision."""
	fields = importable_fields()
	if len(columns) != len(headers):
		frappe.throw(
			_("The column map has {0} columns but the file has {1}: prepare the import again.").format(
				len(columns), len(headers)
			),
			exc=MappingError,
		)
	undecided, unknown, duplicates = [], [], []
	used: dict[str, str] = {}
	mapped: dict[int, str] = {}
	for index, column in enumerate(columns):
		header = headers[index] or _("(column {0}, no header)").format(index + 1)
		if column.get("ignore"):
			continue
		fieldname = (column.get("fieldname") or "").strip()
		if not fieldname:
			undecided.append(header)
		elif fieldname not in fields:
			unknown.append(f"{header} → {fieldname}")
		elif fieldname in used:
			duplicates.append(_("{0} and {1} → {2}").format(used[fieldname], header, fieldname))
		else:
			used[fieldname] = header
			mapped[index] = fieldname
	problems = []
	if undecided:
		problems.append(_("Map or ignore these columns: {0}").format(", ".join(undecided)))
	if unknown:
		problems.append(
			_("These columns point at fields Opportunity doesn't have: {0}").format(", ".join(unknown))
		)
	if duplicates:
		problems.append(
			_("Two columns can't fill the same field (ignore one): {0}").format("; ".join(duplicates))
		)
	if problems:
		frappe.throw("<br>".join(problems), exc=MappingError, title=_("Column map incomplete"))
	return mapped
