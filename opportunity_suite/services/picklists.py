"""Opportunity Type, Lead Source, Lost Reason and Competitor: small picklist records behind Link fields (as ERPNext does), so that a
manager edits them in their list (new, rename, disable) where Customize Form would refuse new options of a
standard Select.

- The shipped values are created when a picklist has no records at all (a manager's deletions stay).
- Every value already stored in a field linking to a picklist gets a record (its data came from the
  Select these fields used to be, or from a raw write): no link is left pointing at nothing.
- A disabled value can't be chosen: a record whose value changes to it (a new record included) is refused;
  records that already have it keep it, and so does an opportunity converted from a lead that has it. The
  same for the picklist Links of child rows (an opportunity's competitors): a row added with a disabled
  value is refused, rows already there are kept."""

import frappe
from frappe import _

from opportunity_suite.services.safe_names import has_unsafe_characters, safe_name

DEFAULT_VALUES = {
	"Opportunity Type": ("New Business", "Existing Business"),
	"Lead Source": (
		"Cold Call",
		"Existing Customer",
		"Self Generated",
		"Employee",
		"Partner",
		"Public Relations",
		"Direct Mail",
		"Conference",
		"Trade Show",
		"Web Site",
		"Word of mouth",
		"Other",
	),
	"Lost Reason": (
		"Price",
		"Lost to Competitor",
		"No Budget",
		"No Decision",
		"Timing",
		"Product Fit",
		"Other",
	),
	"Competitor": (),
}
# picklist DocType → its name field
NAME_FIELDS = {
	"Opportunity Type": "type_name",
	"Lead Source": "source_name",
	"Lost Reason": "reason_name",
	"Competitor": "competitor_name",
}
# the app's DocTypes with fields linking to a picklist
USING_DOCTYPES = ("Opportunity", "Lead")


class DisabledPicklistValueError(frappe.ValidationError):
	pass


def picklist_fields(meta) -> list[tuple[str, str]]:
	"""(fieldname, picklist DocType) of the DocType's Link fields to a picklist, custom fields included."""
	return [(df.fieldname, df.options) for df in meta.get_link_fields() if df.options in NAME_FIELDS]


def picklist_table_fields(meta) -> list[tuple[str, str]]:
	"""("table.field", picklist DocType) of the picklist Links in the DocType's child tables (an
	opportunity's competitors: `competitors.competitor`)."""
	return [
		(f"{table.fieldname}.{fieldname}", picklist)
		for table in meta.get_table_fields()
		for fieldname, picklist in picklist_fields(frappe.get_meta(table.options))
	]


def _all_picklist_fields(meta) -> list[tuple[str, str]]:
	return picklist_fields(meta) + picklist_table_fields(meta)


def disabled_picklist_values(meta) -> dict[str, tuple[str, frozenset[str]]]:
	"""fieldname (or "table.field") → (its picklist, the picklist's disabled values), read at once (the
	importer reads them once per batch instead of once per row)."""
	return {
		fieldname: (picklist, frozenset(frappe.get_all(picklist, filters={"disabled": 1}, pluck="name")))
		for fieldname, picklist in _all_picklist_fields(meta)
	}


def _chosen(doc, before, fieldname: str) -> list[str]:
	"""The values of `fieldname` (or of "table.field" in each row) chosen in this save: set or changed."""
	if "." not in fieldname:
		value = doc.get(fieldname)
		return [value] if value and (before is None or before.get(fieldname) != value) else []
	table, field = fieldname.split(".", 1)
	kept = {row.get(field) for row in (before.get(table) or [])} if before is not None else set()
	return [row.get(field) for row in doc.get(table) or [] if row.get(field) and row.get(field) not in kept]


def check_picklist_values(doc, before=None, meta=None, disabled: dict | None = None):
	"""Refuse a picklist value chosen in this save (new record, or changed) that is disabled.

	`doc` is a Document or, for the importer, a dict of values (then `meta` is the DocType's meta, and
	`disabled` what `disabled_picklist_values` read for the batch).
	`doc.flags.keep_picklist_values`: the values were carried over from another record (a lead being
	converted) and are kept even if retired since."""
	flags = getattr(doc, "flags", None)
	if flags and flags.keep_picklist_values:
		return
	if disabled is None:
		disabled = {
			fieldname: (picklist, None) for fieldname, picklist in _all_picklist_fields(meta or doc.meta)
		}
	for fieldname, (picklist, disabled_values) in disabled.items():
		for value in _chosen(doc, before, fieldname):
			# a value with no record at all is left to Frappe's link check (or the importer's), which names it
			if (
				value in disabled_values
				if disabled_values is not None
				else frappe.get_cached_value(picklist, value, "disabled")
			):
				frappe.throw(
					_("{0} {1} is disabled and can't be chosen.").format(_(picklist), frappe.bold(value)),
					exc=DisabledPicklistValueError,
					title=_("Disabled {0}").format(_(picklist)),
				)


def add_value(picklist: str, value: str):
	frappe.get_doc({"doctype": picklist, NAME_FIELDS[picklist]: value}).insert(ignore_permissions=True)


def ensure_default_values():
	"""Create the shipped values of a picklist that has no records yet (idempotent)."""
	for picklist, values in DEFAULT_VALUES.items():
		if not frappe.db.table_exists(picklist) or frappe.db.count(picklist):
			continue
		for value in values:
			add_value(picklist, value)


def stored_values_without_record(picklist: str) -> list[str]:
	"""Distinct values of the fields linking to `picklist` that no record of it has (MariaDB compares
	names case-insensitively, trailing spaces ignored: as Frappe's link check does)."""
	missing = set()
	table = frappe.qb.DocType(picklist)
	for doctype in USING_DOCTYPES:
		if not frappe.db.table_exists(doctype):
			continue
		using = frappe.qb.DocType(doctype)
		columns = set(frappe.db.get_table_columns(doctype))
		for fieldname, target in picklist_fields(frappe.get_meta(doctype)):
			if target != picklist or fieldname not in columns:
				continue
			field = using[fieldname]
			rows = (
				frappe.qb.from_(using)
				.left_join(table)
				.on(table.name == field)
				.select(field)
				.distinct()
				.where(field.isnotnull() & (field != "") & table.name.isnull())
				.run(pluck=True)
			)
			missing.update(value.strip() for value in rows if value.strip())
	return sorted(missing, key=str.casefold)


def ensure_records_for_stored_values():
	"""Give every value stored in a field linking to a picklist its record (idempotent). A stored value
	with characters a picklist name may not have (services/safe_names.py) is first rewritten, on every
	record that has it, to its safe form."""
	for picklist in NAME_FIELDS:
		if not frappe.db.table_exists(picklist):
			continue
		for value in stored_values_without_record(picklist):
			if has_unsafe_characters(value):
				value = _rewrite_stored_value(picklist, value, safe_name(value) or _("Other"))
			if not frappe.db.exists(picklist, value):  # "Partner" and "partner " are one record
				add_value(picklist, value)


def _rewrite_stored_value(picklist: str, old: str, new: str) -> str:
	for doctype in USING_DOCTYPES:
		if not frappe.db.table_exists(doctype):
			continue
		for fieldname, target in picklist_fields(frappe.get_meta(doctype)):
			if target == picklist:
				table = frappe.qb.DocType(doctype)
				frappe.qb.update(table).set(table[fieldname], new).where(table[fieldname] == old).run()
	return new


def ensure_picklists():
	"""At install and after every migrate: the shipped values, then a record for every stored value."""
	ensure_default_values()
	ensure_records_for_stored_values()
