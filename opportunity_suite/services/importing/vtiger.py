"""What a Vtiger export writes that other files don't (read from Vtiger's
`modules/Vtiger/actions/ExportData.php`, 7.1 and 8.x):

- a reference to another record as `Module::::name`: `Accounts::::Acme Inc`, `Contacts::::Jane Roe`,
  `Campaigns::::Spring Fair` (`sanitizeValues`, uitype 10 and the other reference types);
- the owner (Assigned To) as the user's login name, or as a group's name (`Team Selling`) when a group
  owns the record (`Vtiger_Util_Helper::getOwnerName`): see `users.py`;
- 7.x: the header row written by hand as `"A", "B", "C"` (every header after the first starts with a
  space before its quote), every field quoted, CRLF; 8.x: PHP's `fputcsv` (quoted only when needed, LF).
  The CSV reader reads both (`readers.iter_csv`).

The headers themselves are in `labels/` (one table per language)."""

import re

from frappe import _

from opportunity_suite.services.importing.values import CellError

REFERENCE = re.compile(r"(?P<module>[A-Z][A-Za-z]*)::::(?P<name>.*)", re.DOTALL)
# the Opportunity field → the Vtiger module(s) its references come from
FIELD_MODULES = {
	"organization": ("Accounts",),
	"contact": ("Contacts",),
	"campaign": ("Campaigns",),
	"lead": ("Leads",),
	"project": ("Project",),
}
# a Vtiger module, as a person calls one of its records
MODULE_NOUNS = {
	"Accounts": "an organization",
	"Contacts": "a contact",
	"Campaigns": "a campaign",
	"Leads": "a lead",
	"Potentials": "an opportunity",
	"Project": "a project",
	"Vendors": "a vendor",
	"Products": "a product",
	"Services": "a service",
}


def reference_name(value: str, fieldname: str) -> str:
	"""The name in a Vtiger reference (`Accounts::::Acme Inc` → `Acme Inc`) when it names the kind of
	record `fieldname` holds; any other value as it is. CellError for a reference to another kind of
	record (Vtiger lets an opportunity's Related To be a contact: it is not an organization here)."""
	match = REFERENCE.fullmatch(value)
	if not match:
		return value
	module, name = match.group("module"), match.group("name")
	expected = FIELD_MODULES.get(fieldname)
	if expected and module not in expected:
		raise CellError(
			_("{0} is {1} in Vtiger, not {2}").format(
				value, _(MODULE_NOUNS.get(module, module)), _(MODULE_NOUNS[expected[0]])
			)
		)
	return name
