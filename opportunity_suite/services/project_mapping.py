"""Project Mapping: which opportunity field fills which project field when an opportunity is converted.

The mapping is the single DocType `Project Mapping` with one `Project Mapping Row` per pair. It ships with
DEFAULT_ROWS (created once, idempotently, by the install hooks); the Opportunity Name → Project Name row is
locked. Saving checks every row against the DocTypes' current meta (custom fields included): both fields
must exist and be mappable, their types compatible (COMPATIBLE), and each project field filled once."""

import frappe
from frappe import _
from frappe.model import no_value_fields, table_fields

SOURCE = "Opportunity"
TARGET = "Project"
MAPPING = "Project Mapping"
LOCKED_ROW = ("opportunity_name", "project_name")
DEFAULT_ROWS = (
	LOCKED_ROW,
	("description", "description"),
	("organization", "organization"),
	("contact", "contact"),
	("amount", "budget"),
	("expected_close_date", "target_end_date"),
)
# project fields the conversion itself fills: never a mapping row's target
RESERVED_TARGETS = frozenset({"opportunity"})
# field types whose value can't be copied meaningfully (Dynamic Link depends on another field, Password is
# stored elsewhere)
NOT_MAPPABLE = frozenset({"Dynamic Link", "Password", *no_value_fields, *table_fields})

SHORT_TEXT = ("Data", "Phone", "Autocomplete", "Read Only")
LONG_TEXT = ("Small Text", "Text", "Long Text", "Text Editor", "Markdown Editor", "HTML Editor", "Code")
NUMBER = ("Int", "Long Int", "Float", "Currency", "Percent")
# single-line values that read well as text (a number, a date, a select option, a linked record's name)
AS_TEXT = (*SHORT_TEXT, "Select", "Link", *NUMBER, "Date", "Datetime", "Time")

# target field type -> the source field types it accepts. Anything else (a Date into a Currency, text into
# a number, long text into a one-line Data field...) is refused. Same-type pairs are always accepted except
# where an extra check applies: a Link must point at the same DocType, and a Select into a Select must offer
# every option of the source.
COMPATIBLE: dict[str, frozenset[str]] = {
	**{fieldtype: frozenset(AS_TEXT) for fieldtype in SHORT_TEXT},
	**{fieldtype: frozenset((*AS_TEXT, *LONG_TEXT)) for fieldtype in LONG_TEXT},
	"Select": frozenset({"Select"}),
	"Link": frozenset({"Link"}),
	"Int": frozenset({"Int", "Check"}),
	"Long Int": frozenset({"Int", "Long Int", "Check"}),
	"Float": frozenset(NUMBER),
	"Currency": frozenset(NUMBER),
	"Percent": frozenset(NUMBER),
	"Check": frozenset({"Check"}),
	"Date": frozenset({"Date"}),
	"Datetime": frozenset({"Datetime", "Date"}),
	"Time": frozenset({"Time"}),
	"Duration": frozenset({"Duration"}),
	"Rating": frozenset({"Rating"}),
	"Attach": frozenset({"Attach", "Attach Image"}),
	"Attach Image": frozenset({"Attach Image"}),
}
TEXT_TARGETS = frozenset((*SHORT_TEXT, *LONG_TEXT))


class ProjectMappingError(frappe.ValidationError):
	pass


def mappable_fields(doctype: str) -> dict:
	"""fieldname -> docfield of the DocType's fields (custom ones included) that a mapping row may name."""
	fields = {df.fieldname: df for df in frappe.get_meta(doctype).fields if df.fieldtype not in NOT_MAPPABLE}
	if doctype == TARGET:
		for fieldname in RESERVED_TARGETS:
			fields.pop(fieldname, None)
	return fields


def field_choices() -> dict[str, list[dict]]:
	"""The pickers of the Project Mapping form: each side's mappable fields as {value, label, fieldtype,
	options}, sorted by label. A label is what a person reads (the field's label, with its type when two
	fields share a label); the fieldname is the stored value."""

	def choices(doctype):
		fields = list(mappable_fields(doctype).values())
		labels = [_(df.label or df.fieldname) for df in fields]
		rows = [
			{
				"value": df.fieldname,
				"label": label if labels.count(label) == 1 else f"{label} ({_(df.fieldtype)})",
				"fieldtype": df.fieldtype,
				"options": df.options if df.fieldtype == "Link" else None,
			}
			for df, label in zip(fields, labels, strict=True)
		]
		return sorted(rows, key=lambda row: row["label"].lower())

	return {"opportunity": choices(SOURCE), "project": choices(TARGET)}


def _label(doctype: str, df) -> str:
	return frappe.bold(f"{_(doctype)} {_(df.label or df.fieldname)}")


def _select_options(df) -> set[str]:
	return {option for option in (df.options or "").split("\n") if option}


def incompatibility(source, target) -> str | None:
	"""Why the source field's value can't go into the target field, or None when it can."""
	source_label, target_label = _label(SOURCE, source), _label(TARGET, target)
	accepted = COMPATIBLE.get(target.fieldtype, frozenset({target.fieldtype}))
	if source.fieldtype not in accepted:
		return _("{0} ({1}) cannot be copied into {2} ({3}).").format(
			source_label, _(source.fieldtype), target_label, _(target.fieldtype)
		)
	if target.fieldtype == "Link" and source.options != target.options:
		return _("{0} links to {1}, but {2} links to {3}.").format(
			source_label, _(source.options), target_label, _(target.options)
		)
	if target.fieldtype == "Select":
		missing = sorted(_select_options(source) - _select_options(target))
		if missing:
			return _("{0} can be {1}, which {2} does not offer.").format(
				source_label, ", ".join(missing), target_label
			)
	return None


def _throw(message: str):
	frappe.throw(message, exc=ProjectMappingError, title=_("Invalid Project Mapping"))


def validate_mapping(doc):
	"""Check every row of a Project Mapping document (its `mappings` table) and derive the rows' types."""
	sources, targets = mappable_fields(SOURCE), mappable_fields(TARGET)
	locked_label = _("{0} → {1}").format(_("Opportunity Name"), _("Project Name"))
	filled_by: dict[str, int] = {}
	for row in doc.get("mappings"):
		row.opportunity_field = (row.opportunity_field or "").strip()
		row.project_field = (row.project_field or "").strip()
		pair = (row.opportunity_field, row.project_field)
		if row.locked and pair != LOCKED_ROW:
			_throw(
				_("Row {0} is locked: it must map {1} and cannot be changed.").format(row.idx, locked_label)
			)
		source = sources.get(row.opportunity_field)
		if not source:
			_throw(
				_("Row {0}: the Opportunity has no field {1} that can be mapped.").format(
					row.idx, frappe.bold(row.opportunity_field or _("(empty)"))
				)
			)
		target = targets.get(row.project_field)
		if not target:
			_throw(
				_("Row {0}: the Project has no field {1} that can be mapped.").format(
					row.idx, frappe.bold(row.project_field or _("(empty)"))
				)
			)
		if row.project_field in filled_by:
			_throw(
				_(
					"Row {0}: {1} is already filled by row {2}; a project field can be mapped only once."
				).format(row.idx, _label(TARGET, target), filled_by[row.project_field])
			)
		filled_by[row.project_field] = row.idx
		reason = incompatibility(source, target)
		if reason:
			_throw(_("Row {0}: {1}").format(row.idx, reason))
		row.opportunity_fieldtype = source.fieldtype
		row.project_fieldtype = target.fieldtype
		row.locked = 1 if pair == LOCKED_ROW else 0
	if LOCKED_ROW[1] not in filled_by or not any(row.locked for row in doc.get("mappings")):
		_throw(_("The locked row {0} cannot be removed.").format(locked_label))


def ensure_default_mapping():
	"""Create the shipped rows when the mapping has none. Idempotent: a mapping that has rows (edited or
	not) is left alone."""
	mapping = frappe.get_single(MAPPING)
	if mapping.get("mappings"):
		return
	for source, target in DEFAULT_ROWS:
		mapping.append("mappings", {"opportunity_field": source, "project_field": target})
	mapping.flags.ignore_permissions = True
	mapping.save()


def get_mapping_rows() -> list[tuple[str, str]]:
	"""(opportunity field, project field) of every row, in order, read fresh from the database and checked
	again against the DocTypes as they are now (a custom field may have been deleted since the last save)."""
	mapping = frappe.get_single(MAPPING)
	try:
		validate_mapping(mapping)
	except ProjectMappingError as e:
		frappe.clear_last_message()
		_throw(_("The Project Mapping is no longer valid, fix it first: {0}").format(e))
	return [(row.opportunity_field, row.project_field) for row in mapping.get("mappings")]
