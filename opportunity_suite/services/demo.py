"""Sample data for a first run: a believable pipeline a new user can look at, and its removal.

`load_sample_data()` makes organizations, their contacts, a few leads, products and services, 200
opportunities over every sales stage and over eighteen months of expected close dates, quotes for some
late-stage deals and one won deal converted to a project, each through the same saves (and services) a
person's records go through. Every record it makes is written down (`TRACKING_KEY`, a global default), and
`remove_sample_data()` deletes exactly those: a record of the user's is never touched, and a sample record
that one of the user's records still links to is kept (and reported) instead of deleted. The shipped
hot-deal rule is switched on after the data is in (so the load e-mails no one) when the site has an
outgoing e-mail account, and switched off again on removal."""

import json
import random

import frappe
from frappe import _
from frappe.utils import add_days, add_months, get_first_day, getdate, now, today

TRACKING_KEY = "opportunity_suite_sample_data"
OPPORTUNITY_COUNT = 200
SEED = 20270101  # the same pipeline on every site

# the order records are removed in: what links to others first (a project's opportunity is unlinked
# before the project goes, see _remove_project)
REMOVAL_ORDER = (
	"Sales Order",
	"Quote",
	"Project",
	"Lead",
	"Opportunity",
	"Contact",
	"Organization",
	"Product",
	"Service",
)

ORGANIZATIONS = (
	("Northwind Traders", "Retail"),
	("Contoso Pharmaceuticals", "Healthcare"),
	("Fabrikam Manufacturing", "Manufacturing"),
	("Adventure Works Cycles", "Recreation"),
	("Tailspin Toys", "Retail"),
	("Wide World Importers", "Shipping"),
	("Litware Software", "Technology"),
	("Proseware Analytics", "Consulting"),
	("Alpine Ski House", "Hospitality"),
	("Coho Winery", "Food & Beverage"),
	("Fourth Coffee", "Food & Beverage"),
	("Lucerne Publishing", "Media"),
	("Margie's Travel", "Transportation"),
	("Trey Research", "Biotechnology"),
	("Woodgrove Bank", "Banking"),
)
PEOPLE = (
	("Anna", "Keller"),
	("Ben", "Okafor"),
	("Chen", "Wei"),
	("Diana", "Morales"),
	("Erik", "Lindqvist"),
	("Fatima", "Haddad"),
	("George", "Papadopoulos"),
	("Hana", "Suzuki"),
	("Ivan", "Petrov"),
	("Julia", "Rossi"),
	("Kofi", "Mensah"),
	("Laura", "Schmidt"),
	("Mateo", "Fernández"),
	("Nina", "Kowalski"),
	("Omar", "Farouk"),
)
PRODUCTS = (
	("Analytics Suite Licence", "Software", 4800),
	("Field Sensor Kit", "Hardware", 1250),
	("Cloud Storage 10 TB", "Software", 2400),
	("Support Plan Gold", "Support", 3600),
)
SERVICES = (
	("Onboarding Workshop", "Days", 1800),
	("Custom Integration", "Hours", 150),
)
DEALS = (
	"Licence renewal",
	"Rollout phase 2",
	"Pilot project",
	"Regional expansion",
	"Support contract",
	"Platform upgrade",
	"Data migration",
	"New branch equipment",
	"Annual framework agreement",
	"Training programme",
)
NEXT_STEPS = (
	"Send the revised proposal",
	"Demo for the IT team",
	"Call the buyer about the budget",
	"Workshop with the stakeholders",
	"Wait for the board's decision",
	"",
)
LOST_REASONS = ("Price too high", "Went with a competitor", "No budget this year", "Project cancelled")
LEAD_STATUSES = ("New", "Contacted", "Qualified", "New", "Contacted", "New", "Junk", "Qualified")


class SampleDataError(frappe.ValidationError):
	pass


def check_permission():
	"""Sample data is a System Manager's (frappe.only_for would let everyone through under tests)."""
	if "System Manager" not in frappe.get_roles():
		frappe.throw(
			_("Only a System Manager may load or remove sample data."),
			exc=frappe.PermissionError,
			title=_("Not Permitted"),
		)


# ---------------------------------------------------------------- what was made


def tracked() -> dict | None:
	"""What the last load made ({"records": {doctype: [names]}, "rule_enabled": …}), None when nothing.
	Read from the table, not Frappe's defaults cache, which a long-lived process may hold from before
	another process loaded or removed the data."""
	raw = frappe.db.get_value("DefaultValue", {"parent": "__global", "defkey": TRACKING_KEY}, "defvalue")
	return json.loads(raw) if raw else None


def _track(state: dict | None):
	frappe.db.set_global(TRACKING_KEY, json.dumps(state, separators=(",", ":")) if state else "")


def status() -> dict:
	"""Whether sample data is loaded, how much of it, and whether the site has no opportunities yet (the
	workspace offers "Load sample data" then)."""
	state = tracked()
	counts = {doctype: len(names) for doctype, names in (state or {}).get("records", {}).items() if names}
	return {
		"loaded": bool(counts),
		"counts": counts,
		"empty": not frappe.db.exists("Opportunity", {}),
	}


# ---------------------------------------------------------------- loading


class _Loader:
	def __init__(self):
		self.rng = random.Random(SEED)
		self.records: dict[str, list[str]] = {}
		self.user = frappe.session.user
		self.start = get_first_day(today())

	def made(self, doc) -> str:
		self.records.setdefault(doc.doctype, []).append(doc.name)
		return doc.name

	def insert(self, values: dict) -> str:
		return self.made(frappe.get_doc(values).insert())

	def organizations(self) -> list[tuple[str, list[str]]]:
		"""(organization, its contacts) for each sample organization; one that already exists by that name
		is the user's: it is used but not made (nor ever removed)."""
		result = []
		for index, (name, industry) in enumerate(ORGANIZATIONS):
			existing = frappe.db.get_value("Organization", {"organization_name": name})
			if existing:
				org = existing
			else:
				domain = name.lower().replace("'", "").replace(" ", "") + ".example.com"
				org = self.insert(
					{
						"doctype": "Organization",
						"organization_name": name,
						"industry": industry,
						"website": f"https://www.{domain}",
						"email": f"info@{domain}",
						"phone": f"+1 555 01{index:02d}",
						"assigned_to": self.user,
					}
				)
			first, last = PEOPLE[index]
			domain = name.lower().replace("'", "").replace(" ", "") + ".example.com"
			contact = self.insert(
				{
					"doctype": "Contact",
					"first_name": first,
					"last_name": last,
					"company_name": org,
					"email_ids": [{"email_id": f"{ascii_part(first)}.{index}@{domain}", "is_primary": 1}],
					"links": [{"link_doctype": "Organization", "link_name": org}],
				}
			)
			result.append((org, [contact]))
		return result

	def catalog(self) -> list[tuple[str, str, float]]:
		lines = []
		for index, (name, category, price) in enumerate(PRODUCTS):
			product = self.insert(
				{
					"doctype": "Product",
					"product_name": name,
					"code": f"SAMPLE-P{index + 1}",
					"category": category,
					"unit_price": price,
					"is_active": 1,
				}
			)
			lines.append(("Product", product, price))
		for index, (name, unit, price) in enumerate(SERVICES):
			service = self.insert(
				{
					"doctype": "Service",
					"service_name": name,
					"code": f"SAMPLE-S{index + 1}",
					"usage_unit": unit,
					"unit_price": price,
					"is_active": 1,
				}
			)
			lines.append(("Service", service, price))
		return lines

	def leads(self):
		sources = frappe.get_all("Lead Source", pluck="name", order_by="name")
		for index, lead_status in enumerate(LEAD_STATUSES):
			first, last = PEOPLE[-(index + 1)]
			self.insert(
				{
					"doctype": "Lead",
					"first_name": first,
					"last_name": last,
					"company_name": f"{last} & Partners",
					"email_id": f"{ascii_part(first)}.{ascii_part(last)}.lead{index}@example.com",
					"status": lead_status,
					"lead_source": sources[index % len(sources)] if sources else None,
					"assigned_to": self.user,
				}
			)

	def opportunities(self, organizations) -> list[str]:
		stages = frappe.get_all(
			"Opportunity Stage",
			filters={"disabled": 0},
			fields=["name", "stage_type"],
			order_by="sequence asc",
		)
		if not stages:
			frappe.throw(_("There are no sales stages to put sample opportunities in."), exc=SampleDataError)
		types = frappe.get_all("Opportunity Type", pluck="name", order_by="name")
		sources = frappe.get_all("Lead Source", pluck="name", order_by="name")
		names = []
		for index in range(OPPORTUNITY_COUNT):
			stage = stages[index % len(stages)]
			org, contacts = organizations[index % len(organizations)]
			closed = stage.stage_type in ("Won", "Lost")
			# open deals close over the next twelve months, closed ones closed over the last six
			month = -self.rng.randrange(0, 6) if closed else self.rng.randrange(0, 12)
			close = add_days(add_months(self.start, month), self.rng.randrange(0, 28))
			if closed and getdate(close) > getdate(today()):
				close = today()
			values = {
				"doctype": "Opportunity",
				"opportunity_name": f"{org_title(org)}: {DEALS[index % len(DEALS)]}",
				"organization": org,
				"contact": contacts[0],
				"amount": self.rng.randrange(4, 240) * 500,
				"sales_stage": stage.name,
				"expected_close_date": close,
				"opportunity_type": types[index % len(types)] if types else None,
				"lead_source": sources[index % len(sources)] if sources else None,
				"next_step": "" if closed else NEXT_STEPS[index % len(NEXT_STEPS)],
				"assigned_to": self.user,
			}
			if stage.stage_type == "Lost":
				values["lost_reason"] = LOST_REASONS[index % len(LOST_REASONS)]
			names.append(self.insert(values))
		return names

	def quotes(self, opportunities: list[str], lines) -> None:
		"""A quote (with lines) for five deals in late open stages, through the opportunity's own
		"Create → Quote"."""
		from opportunity_suite.services.sales_documents import make_quote

		late = frappe.get_all(
			"Opportunity",
			filters={"name": ("in", opportunities), "status": "Open", "probability": (">=", 50)},
			pluck="name",
			order_by="name asc",
			limit=5,
		)
		for index, name in enumerate(late):
			opp = frappe.get_doc("Opportunity", name)
			item_type, item, price = lines[index % len(lines)]
			opp.append("items", {"item_type": item_type, "item": item, "qty": 1 + index, "rate": price})
			opp.save()
			quote = make_quote(name)
			quote.status = "Sent" if index % 2 else "Draft"
			quote.valid_till = add_days(today(), 30)
			quote.insert()
			self.made(quote)

	def project(self, opportunities: list[str]) -> None:
		from opportunity_suite.services.conversion import convert_to_project

		won = frappe.get_all(
			"Opportunity",
			filters={"name": ("in", opportunities), "status": "Won", "project": ("is", "not set")},
			pluck="name",
			order_by="name asc",
			limit=1,
		)
		if won:
			project = convert_to_project(won[0])
			self.records.setdefault("Project", []).append(project)


def ascii_part(name: str) -> str:
	"""A name as an e-mail address's local part: Fernández → fernandez."""
	import unicodedata

	return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()


def org_title(org: str) -> str:
	return frappe.db.get_value("Organization", org, "organization_name") or org


def load_sample_data() -> dict:
	"""Fill the site with the sample pipeline (once: refused while sample data is loaded). Returns what
	was made, by DocType, and whether the hot-deal rule was switched on."""
	if status()["loaded"]:
		frappe.throw(
			_("Sample data is already loaded. Remove it first to load it again."), exc=SampleDataError
		)
	loader = _Loader()
	organizations = loader.organizations()
	lines = loader.catalog()
	loader.leads()
	opportunities = loader.opportunities(organizations)
	loader.quotes(opportunities, lines)
	loader.project(opportunities)
	rule_enabled = _enable_hot_deal_rule()
	_track(
		{
			"records": loader.records,
			"rule_enabled": rule_enabled,
			"loaded_by": loader.user,
			"loaded_on": now(),
		}
	)
	return {
		"counts": {doctype: len(names) for doctype, names in loader.records.items()},
		"rule_enabled": rule_enabled,
	}


def load_for_setup() -> str:
	"""`scripts/setup --demo` (bench execute, as Administrator): load the sample data unless it is loaded
	already, and commit. Returns what it did, for the terminal."""
	if status()["loaded"]:
		return _("Sample data is already loaded.")
	made = load_sample_data()
	frappe.db.commit()
	counts = ", ".join(f"{count} {_(doctype)}" for doctype, count in made["counts"].items())
	rule = _("the hot-deal alert rule is on") if made["rule_enabled"] else _("the hot-deal alert rule is off")
	return _("Sample data loaded: {0}; {1}.").format(counts, rule)


def _enable_hot_deal_rule() -> bool:
	"""Switch the shipped hot-deal rule on when the site can send its e-mails (an outgoing account, such
	as the local SMTP sink scripts/setup configures); True when this switched it on."""
	from opportunity_suite.services.alerts.example import EXAMPLE_RULE
	from opportunity_suite.services.alerts.outgoing import has_outgoing_account

	if not has_outgoing_account() or not frappe.db.exists("Alert Rule", EXAMPLE_RULE):
		return False
	rule = frappe.get_doc("Alert Rule", EXAMPLE_RULE)
	if rule.enabled:
		return False
	rule.enabled = 1
	rule.save(ignore_permissions=True)
	return True


# ---------------------------------------------------------------- removal


def remove_sample_data() -> dict:
	"""Delete what load_sample_data made, and nothing else. A sample record another record still links to
	(a quote of the user's on a sample deal) is kept and reported. Returns {"deleted": {doctype: n},
	"kept": {doctype: [names]}}."""
	state = tracked()
	if not state:
		return {"deleted": {}, "kept": {}}
	records: dict[str, list[str]] = state.get("records", {})
	deleted: dict[str, int] = {}
	kept: dict[str, list[str]] = {}
	for doctype in REMOVAL_ORDER:
		for name in records.get(doctype, []):
			if not frappe.db.exists(doctype, name):
				continue  # the user deleted it already
			if _delete(doctype, name):
				deleted[doctype] = deleted.get(doctype, 0) + 1
			else:
				kept.setdefault(doctype, []).append(name)
	if state.get("rule_enabled"):
		_disable_hot_deal_rule()
	# what could not go stays tracked, so that a later removal tries again
	_track({**state, "records": kept, "rule_enabled": False} if kept else None)
	return {"deleted": deleted, "kept": kept}


def _delete(doctype: str, name: str) -> bool:
	"""Delete one sample record with Frappe's own checks (links, hooks); False when something still
	links to it (the record stays as it was)."""
	savepoint = "sample_data_removal"
	frappe.db.savepoint(savepoint)
	try:
		if doctype == "Project":
			_unlink_sample_opportunity(name)
		frappe.delete_doc(doctype, name, ignore_permissions=True)
	except frappe.LinkExistsError:
		frappe.db.rollback(save_point=savepoint)
		frappe.clear_messages()
		return False
	frappe.db.release_savepoint(savepoint)
	return True


def _unlink_sample_opportunity(project: str):
	"""The converted opportunity and its project link to each other: the opportunity lets go of the
	project first (both are sample records; the opportunity goes right after)."""
	for opportunity in frappe.get_all("Opportunity", filters={"project": project}, pluck="name"):
		frappe.db.set_value(
			"Opportunity", opportunity, {"project": None, "converted_on": None}, update_modified=False
		)


def _disable_hot_deal_rule():
	from opportunity_suite.services.alerts.example import EXAMPLE_RULE

	if frappe.db.get_value("Alert Rule", EXAMPLE_RULE, "enabled"):
		rule = frappe.get_doc("Alert Rule", EXAMPLE_RULE)
		rule.enabled = 0
		rule.save(ignore_permissions=True)
