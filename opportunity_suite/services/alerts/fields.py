"""What the alert service knows about the fields of the DocTypes rules watch."""

from dataclasses import dataclass

import frappe
from frappe import _

from opportunity_suite.services.alerts.errors import DocTypeNotAllowedError, UnknownFieldError

APP = "opportunity_suite"
# the app's DocTypes that are not business records (the alerts' own, picklists, import runs, their
# batches and saved column maps, the stage history, frozen forecasts and quotas): rules never watch them
NOT_WATCHABLE = frozenset(
	{
		"Alert Rule",
		"Alert Log",
		"Opportunity Stage",
		"Opportunity Type",
		"Lead Source",
		"Lost Reason",
		"Competitor",
		"Opportunity Import",
		"Opportunity Import Batch",
		"Opportunity Import Template",
		"Opportunity Stage History",
		"Stage Stay Count",
		"Forecast Snapshot",
		"Sales Quota",
	}
)
# values that follow from other fields: never targets of "Update Field", never a "modification"
DERIVED_FIELDS = frozenset({"forecast_amount", "base_amount", "base_forecast_amount", "status", "closed_on"})
# bookkeeping that changes on every save: never a "modification"
BOOKKEEPING_FIELDS = frozenset(
	{"modified", "modified_by", "idx", "_assign", "_comments", "_liked_by", "_seen"}
)

NUMBER_TYPES = frozenset({"Int", "Float", "Currency", "Percent", "Check", "Rating", "Duration"})
TEXT_TYPES = frozenset(
	{
		"Data",
		"Select",
		"Link",
		"Dynamic Link",
		"Small Text",
		"Text",
		"Long Text",
		"Text Editor",
		"Code",
		"HTML Editor",
		"Markdown Editor",
		"Phone",
		"Autocomplete",
		"Read Only",
		"Color",
		"Barcode",
		"Time",
		"Attach",
		"Attach Image",
		"JSON",
	}
)
TABLE_TYPES = frozenset({"Table", "Table MultiSelect"})
# standard columns every record has: (fieldname, fieldtype)
STANDARD_FIELDS = {
	"name": "Data",
	"owner": "Link",
	"creation": "Datetime",
	"modified": "Datetime",
	"modified_by": "Link",
	"docstatus": "Int",
}


@dataclass(frozen=True)
class FieldInfo:
	fieldname: str
	fieldtype: str
	label: str
	options: str = ""
	permlevel: int = 0
	read_only: bool = False

	@property
	def kind(self) -> str:
		"""number, date, datetime, table, text or unsupported (Password, Signature, Geolocation...)."""
		if self.fieldtype in NUMBER_TYPES:
			return "number"
		if self.fieldtype == "Date":
			return "date"
		if self.fieldtype == "Datetime":
			return "datetime"
		if self.fieldtype in TABLE_TYPES:
			return "table"
		if self.fieldtype in TEXT_TYPES:
			return "text"
		return "unsupported"

	@property
	def select_options(self) -> list[str]:
		if self.fieldtype != "Select":
			return []
		return [o for o in (self.options or "").split("\n") if o]


def get_field(doctype: str, fieldname: str, meta=None) -> FieldInfo | None:
	"""The field of `doctype` (custom fields included) or a standard column; None when it doesn't exist.
	`meta`: the DocType's meta when the caller has it (a document's `doc.meta`), saving a cache lookup."""
	fieldname = (fieldname or "").strip()
	if fieldname in STANDARD_FIELDS:
		options = "User" if fieldname in ("owner", "modified_by") else ""
		return FieldInfo(fieldname, STANDARD_FIELDS[fieldname], fieldname, options, 0, True)
	df = (meta or frappe.get_meta(doctype)).get_field(fieldname)
	if not df or (df.fieldtype in frappe.model.no_value_fields and df.fieldtype not in TABLE_TYPES):
		return None
	return FieldInfo(
		df.fieldname,
		df.fieldtype,
		df.label or df.fieldname,
		df.options or "",
		df.permlevel or 0,
		bool(df.read_only),
	)


def require_field(doctype: str, fieldname: str) -> FieldInfo:
	field = get_field(doctype, fieldname)
	if not field:
		frappe.throw(
			_("Field {0} does not exist on {1}.").format(frappe.bold(fieldname or "?"), _(doctype)),
			exc=UnknownFieldError,
			title=_("Unknown Field"),
		)
	return field


def allowed_doctypes() -> list[str]:
	"""The app's own record DocTypes (from its modules): Opportunity now; Lead, Organization, Quote, Sales
	Order, Project as soon as they exist. Child tables, singles and the alert DocTypes are left out."""
	modules = frappe.get_module_list(APP)
	names = frappe.get_all(
		"DocType",
		filters={"module": ("in", modules), "istable": 0, "issingle": 0},
		pluck="name",
		order_by="name",
	)
	return [name for name in names if name not in NOT_WATCHABLE]


def assert_doctype_allowed(doctype: str):
	if doctype not in allowed_doctypes():
		frappe.throw(
			_("Alert rules can watch only these document types: {0}.").format(", ".join(allowed_doctypes())),
			exc=DocTypeNotAllowedError,
			title=_("Document Type Not Allowed"),
		)


def readable_fields(doctype: str) -> list[FieldInfo]:
	"""Fields every reader of the record may see (permission level 0), passwords left out."""
	meta = frappe.get_meta(doctype)
	fields = [get_field(doctype, name) for name in STANDARD_FIELDS]
	for df in meta.fields:
		if df.fieldtype in frappe.model.no_value_fields and df.fieldtype not in TABLE_TYPES:
			continue
		if df.fieldtype == "Password" or (df.permlevel or 0) > 0:
			continue
		fields.append(get_field(doctype, df.fieldname))
	return [f for f in fields if f]
