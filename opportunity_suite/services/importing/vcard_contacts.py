"""The Contacts (and their Addresses) a vCard import makes, written a batch at a time like the
opportunities: multi-row INSERTs through the runner's writer, with the checks a Contact or Address save
makes on the values written (length, e-mail and phone through Frappe's validators, the XSS sanitizer,
Frappe's naming: `<full name>-<organization>`, `-1`, `-2` when taken; an Address `<title>-<type>`).

A value a save would refuse loses that value, with a warning on its card; the card imports. A card
whose UID an earlier card of the file had is the same person: skipped, saying which card. A card's
Contact is matched first by UID, then by e-mail, then by full name and company; only new ones are
written, and only for cards whose opportunity was written."""

import frappe
from frappe import _
from frappe.utils import cstr

from opportunity_suite.services.importing import organizations, values
from opportunity_suite.services.importing.tables import Table, taken_names, unique_names
from opportunity_suite.services.importing.vcard import Card
from opportunity_suite.services.importing.writer import (
	execute,
	insert_statements,
	reserve_names,
	upsert_global_search,
)

CONTACT = "Contact"
ADDRESS = "Address"
COUNTRY_ALIASES = {
	"usa": "United States",
	"us": "United States",
	"u.s.a.": "United States",
	"united states of america": "United States",
	"uk": "United Kingdom",
	"great britain": "United Kingdom",
	"deutschland": "Germany",
	"schweiz": "Switzerland",
	"suisse": "Switzerland",
	"österreich": "Austria",
	"italia": "Italy",
	"españa": "Spain",
	"méxico": "Mexico",
}


class RunTables:
	"""The tables of a run, read once."""

	def __init__(self):
		self.contact = Table(CONTACT)
		self.email = Table("Contact Email", child=True)
		self.phone = Table("Contact Phone", child=True)
		self.link = Table("Dynamic Link", child=True)
		self.address = Table(ADDRESS)
		self.salutations = {
			values.match_key(s.rstrip(".")): s for s in frappe.get_all("Salutation", pluck="name")
		}
		self.default_country = frappe.db.get_single_value("System Settings", "country")
		self.uids: dict[str, int] = {}  # UID → the number of the card that first had it
		self.uids_checked_to = 0


def run_tables(run) -> RunTables:
	if getattr(run, "_vcard_tables", None) is None:
		run._vcard_tables = RunTables()
	return run._vcard_tables


def warnings_of(writer) -> dict[int, list[str]]:
	"""row number → the batch's warnings on that row (the run's results file lists them)."""
	return writer.result.warnings


# ---------------------------------------------------------------- the batch


class VCardContacts:
	"""Mixed into BatchWriter (needs `run`, `result`, `fail`, `skip`, `warn`, `now`, `row_by_row`):
	`make_contacts` for the rows that passed their checks (each card's Contact matched, or named and
	kept to write), `write_contacts` once the batch's opportunities are written."""

	def make_contacts(self, parsed: list) -> list:
		"""The rows of `parsed` ((row_no, row, record with its `_card`)) whose card can have its contact,
		each record with its `contact`; the others are failed or skipped, saying why."""
		if getattr(self, "vcard_contacts", None) is None:
			self.vcard_contacts = BatchContacts(self)
		return self.vcard_contacts.attach(self.vcard_contacts.match(parsed))

	def write_contacts(self):
		if getattr(self, "vcard_contacts", None) is not None:
			self.vcard_contacts.write()


class BatchContacts:
	"""One batch's contacts: `match` (ORG → Organization, the Contact each card is), `attach` the new
	contacts' names to their opportunities, `write` them after the opportunities."""

	def __init__(self, writer):
		self.writer = writer
		self.run = writer.run
		self.tables = run_tables(writer.run)
		self.pending: dict[int, dict] = {}  # row_no → the new contact (with its child rows and address)
		self.names_state: dict = {}  # the contact names taken, known across the batch's calls

	# -------------------------------------------------------- match

	def match(self, parsed: list) -> list:
		writer, run = self.writer, self.run
		self._note_earlier_uids(parsed)
		kept = []
		for row_no, row, record in parsed:
			card: Card = record["_card"]
			for warning in card.warnings:  # a line of the card left out: its contact's
				writer.warn(row_no, warning, "contact")
			if card.error:
				writer.fail(row_no, row, card.error)
				continue
			if card.uid:
				first = self.tables.uids.setdefault(card.uid, card.number)
				if first != card.number:
					writer.skip(row_no, _("Duplicate: same vCard UID as card {0}.").format(first))
					continue
			kept.append((row_no, row, record))
		cards = [r["_card"] for _n, _row, r in kept]
		orgs = {}
		if run.has_organization:
			orgs = organizations.ensure(writer, [c.organization for c in cards if c.organization], True)
		existing = self._existing_contacts(cards)
		out = []
		may_create = None
		for row_no, row, record in kept:
			card = record.pop("_card")
			organization = None
			if run.has_organization and card.organization:
				organization = orgs.get(values.match_key(card.organization))
				if not organization:
					reason = organizations.not_found_reason(writer, card.organization)
					if may_create is None:
						may_create = not organizations.creation_refused(run.user, run.user_permissions)
					if not may_create:  # the user may not create it: the card can't have its organization
						writer.fail(row_no, row, reason)
						continue
					# an ORG no Organization can be made of (`<svg onload=…> Ltd`): that value is lost
					writer.warn(row_no, reason, "organization")
					record.pop("organization", None)
					(record.get("_new_organizations") or {}).pop("organization", None)
				else:  # made here, with the batch's others: nothing left for make_row_links to make
					record["organization"] = organization
					(record.get("_new_organizations") or {}).pop("organization", None)
			contact = existing(card)
			if not contact:
				try:
					self.pending[row_no] = self._new_contact(row_no, card, organization)
				except frappe.ValidationError as e:
					frappe.clear_last_message()
					writer.fail(row_no, row, str(e))
					continue
			elif run.has_contact_field:
				record["contact"] = contact
			out.append((row_no, row, record))
		return out

	def _note_earlier_uids(self, parsed):
		"""A resumed run: the UIDs of the cards before this batch that earlier runs imported."""
		tables = self.tables
		if not parsed or tables.uids_checked_to:
			return
		first_row = parsed[0][0]
		tables.uids_checked_to = first_row
		if first_row <= 2:
			return
		for row_no, row in self.run.file:
			if row_no >= first_row:
				break
			card = getattr(row, "card", None)
			if card and card.uid and not card.error:
				tables.uids.setdefault(card.uid, card.number)

	def _existing_contacts(self, cards: list[Card]):
		"""A function card → the existing Contact it is (by UID, any e-mail, or full name and company)."""
		uids = [c.uid for c in cards if c.uid]
		emails = [e.value for c in cards for e in c.emails]
		by_uid, by_email = {}, {}
		if uids and self.tables.contact.meta.has_field("vcard_uid"):
			for row in frappe.get_all(CONTACT, {"vcard_uid": ("in", uids)}, ["name", "vcard_uid"]):
				by_uid.setdefault(row.vcard_uid, row.name)
		if emails:
			for row in frappe.get_all(
				"Contact Email",
				filters={"email_id": ("in", emails), "parenttype": CONTACT},
				fields=["parent", "email_id"],
			):
				by_email.setdefault(values.match_key(row.email_id), row.parent)
		no_key = [c for c in cards if not c.uid and not c.emails]
		by_name = {}
		if no_key:
			for row in frappe.get_all(
				CONTACT,
				{"full_name": ("in", list({c.full_name for c in no_key}))},
				["name", "full_name", "company_name"],
				order_by="creation",
			):
				by_name.setdefault(
					(values.match_key(row.full_name), values.match_key(row.company_name)), row.name
				)
		made_here: dict = {}  # within the batch: the same e-mail is the same person

		def find(card: Card) -> str | None:
			if card.uid and card.uid in by_uid:
				return by_uid[card.uid]
			for email in card.emails:
				key = values.match_key(email.value)
				if key in by_email:
					return by_email[key]
				if key in made_here:
					return made_here[key]
			if not card.emails and not card.uid:
				return by_name.get((values.match_key(card.full_name), values.match_key(card.organization)))
			for email in card.emails:
				made_here.setdefault(values.match_key(email.value), ("pending", card.number))
			return None

		def existing(card: Card):
			found = find(card)
			return None if isinstance(found, tuple) else found

		return existing

	# -------------------------------------------------------- build

	def _new_contact(self, row_no: int, card: Card, organization: str | None) -> dict:
		"""The Contact (a dict of its row, child rows and address) as a save would store it."""
		warnings = warnings_of(self.writer).setdefault(row_no, [])
		before = len(warnings)
		try:
			return self._build_contact(row_no, card, organization, warnings)
		finally:
			for warning in warnings[before:]:  # what the contact lost: the preview marks its cell
				self.writer.note(row_no, "contact", warning)

	def _build_contact(self, row_no: int, card: Card, organization: str | None, warnings: list) -> dict:
		tables = self.tables
		first = card.first_name or (card.full_name if not (card.last_name or card.middle_name) else "")
		salutation = (
			tables.salutations.get(values.match_key(card.prefix.rstrip("."))) if card.prefix else None
		)
		fields = {
			"first_name": first,
			"middle_name": card.middle_name,
			"last_name": card.last_name,
			"full_name": card.full_name,
			"salutation": salutation,
			"suffix": card.suffix,
			"company_name": card.organization,
			"department": card.department,
			"designation": card.title,
			"notes": card.note,
			"website": card.website,
			"vcard_uid": card.uid,
		}
		fields = {f: (v or None) for f, v in fields.items() if f in tables.contact.rules}
		tables.contact.clean(fields, warnings, "Contact")
		emails = []
		for email in card.emails:
			row = tables.email.clean({"email_id": email.value, "email_type": email.kind}, warnings, "Email")
			if row["email_id"]:
				emails.append((row, email.preferred))
		phones = []
		for phone in card.phones:
			row = tables.phone.clean({"phone": phone.value, "phone_type": phone.kind}, warnings, "Phone")
			if row["phone"]:
				phones.append((row, phone))
		# the primary e-mail: the first PREF one, else the first; phone and mobile alike (no reordering)
		primary_email = next((r for r, pref in emails if pref), emails[0][0] if emails else None)
		for index, (row, _pref) in enumerate(emails, start=1):
			row.update(is_primary=int(row is primary_email), idx=index, parentfield="email_ids")
		mobiles = [(r, p) for r, p in phones if p.kind == "Cell"]
		others = [(r, p) for r, p in phones if p.kind not in ("Cell", "Fax", "Pager")]
		primary_mobile = next((r for r, p in mobiles if p.preferred), mobiles[0][0] if mobiles else None)
		primary_phone = next((r for r, p in others if p.preferred), others[0][0] if others else None)
		for index, (row, _p) in enumerate(phones, start=1):
			row.update(
				is_primary_phone=int(row is primary_phone),
				is_primary_mobile_no=int(row is primary_mobile),
				idx=index,
				parentfield="phone_nos",
			)
		fields.update(
			email_id=primary_email["email_id"] if primary_email else None,
			phone=primary_phone["phone"] if primary_phone else None,
			mobile_no=primary_mobile["phone"] if primary_mobile else None,
		)
		from frappe.contacts.doctype.contact.contact import get_full_name
		from frappe.model.naming import validate_name

		base = get_full_name(
			fields.get("first_name"), fields.get("middle_name"), fields.get("last_name"), card.organization
		)
		if not base:
			base = card.full_name or (emails[0][0]["email_id"] if emails else "")
		if organization:
			base = f"{base}-{organization.strip()}"
		try:
			base = validate_name(CONTACT, base)  # a save refuses `<` and `>` in a name, as here
		except frappe.NameError as e:  # Frappe's message, as a save gives it
			frappe.clear_last_message()
			raise frappe.ValidationError(_("The contact can't be named {0}: {1}").format(base, e)) from None
		if len(base) > 140:
			base = base[:140].strip()
		contact = {
			"fields": fields,
			"base": base,
			"emails": [r for r, _p in emails],
			"phones": [r for r, _p in phones],
			"links": [
				{
					"link_doctype": "Organization",
					"link_name": organization,
					"link_title": _title(card.organization),
				}
			]
			if organization
			else [],
			"addresses": self._addresses(card, warnings),
			"row_no": row_no,
		}
		if not fields.get("full_name"):
			fields["full_name"] = base
		return contact

	def _addresses(self, card: Card, warnings: list[str]) -> list[dict]:
		tables = self.tables
		out = []
		preferred = next(
			(a for a in card.addresses if a.preferred), card.addresses[0] if card.addresses else None
		)
		for address in card.addresses:
			lines = [line.strip() for line in address.street.split("\n") if line.strip()]
			country = self._country(address.country)
			shown = ", ".join(
				p for p in (address.street.replace("\n", ", "), address.city, address.country) if p
			)
			missing = []
			if not lines:
				missing.append(_("street"))
			if not address.city:
				missing.append(_("city"))
			if not country:
				missing.append(_("country {0}").format(address.country) if address.country else _("country"))
			if missing:
				warnings.append(
					_(
						"Address “{0}” was left out: it has no {1} (an Address needs street, city and country)."
					).format(shown, ", ".join(missing))
				)
				continue
			row = {
				"address_title": card.full_name or card.organization,
				"address_type": address.kind,
				"address_line1": lines[0],
				"address_line2": ", ".join(lines[1:]) or None,
				"city": address.city,
				"state": address.region or None,
				"pincode": address.code or None,
				"country": country,
				"is_primary_address": int(address is preferred),
			}
			tables.address.clean(row, warnings, "Address")
			if not (row["address_line1"] and row["city"] and row["address_title"]):
				continue
			out.append(row)
		return out

	def _country(self, given: str) -> str | None:
		tables = self.tables
		if not hasattr(tables, "countries"):
			tables.countries = {}
			for row in frappe.get_all("Country", fields=["name", "code"]):
				tables.countries[values.match_key(row.name)] = row.name
				if row.code:
					tables.countries.setdefault(values.match_key(row.code), row.name)
		if not given:
			return tables.default_country
		key = values.match_key(given)
		return tables.countries.get(key) or tables.countries.get(
			values.match_key(COUNTRY_ALIASES.get(cstr(given).strip().lower(), ""))
		)

	# -------------------------------------------------------- names

	def attach(self, parsed: list) -> list:
		"""Name the new contacts (as Frappe's naming would: the name, else `-1`, `-2`, …) and put each on
		its opportunity."""
		unnamed = [c for c in self.pending.values() if "name" not in c["fields"]]
		if unnamed:
			names = unique_names(CONTACT, [c["base"] for c in unnamed], self.names_state)
			for contact, name in zip(unnamed, names, strict=True):
				contact["fields"]["name"] = name
		if self.run.has_contact_field:
			for row_no, _row, record in parsed:
				if row_no in self.pending:
					record["contact"] = self.pending[row_no]["fields"]["name"]
		return parsed

	# -------------------------------------------------------- write

	def write(self):
		"""INSERT the contacts (and addresses, links, e-mails, phones) of the rows whose opportunity was
		written, through the writer the opportunities use."""
		failed = {f[0] for f in self.writer.result.failed}
		contacts = [c for row_no, c in self.pending.items() if row_no not in failed]
		if not contacts:
			return
		titles = [
			f"{address['address_title'].strip()}-{_(address['address_type']).strip()}"
			for contact in contacts
			for address in contact["addresses"]
		]
		address_names = iter(unique_address_names(titles))
		groups = [self._rows(contact, address_names) for contact in contacts]
		if self.writer.row_by_row:  # a row the database refuses loses its contact, not the batch
			written = []
			for contact, group in zip(contacts, groups, strict=True):
				frappe.db.savepoint("opportunity_import_contact")
				try:
					execute(self._statements([group]))
					written.append(group)
				except Exception as e:
					frappe.db.rollback(save_point="opportunity_import_contact")
					self.writer.warn(
						contact["row_no"], _("The contact could not be saved: {0}").format(e), "contact"
					)
			groups = written
		else:
			execute(self._statements(groups))
		created = self.writer.result.created_records
		for group in groups:
			created.setdefault(CONTACT, []).append(group[CONTACT][0]["name"])
			if group[ADDRESS]:
				created.setdefault(ADDRESS, []).extend(r["name"] for r in group[ADDRESS])
		self._global_search(groups)

	def _rows(self, contact: dict, address_names) -> dict[str, list[dict]]:
		"""The table rows of one new contact: {doctype: [rows]}."""
		tables, now, user = self.tables, self.writer.now, self.run.user
		name = contact["fields"]["name"]
		row = tables.contact.new_row(contact["fields"], now, user)
		group = {CONTACT: [row], "Contact Email": [], "Contact Phone": [], ADDRESS: [], "Dynamic Link": []}
		for address in contact["addresses"]:
			address["name"] = next(address_names)
			group[ADDRESS].append(tables.address.new_row(address, now, user))
			group["Dynamic Link"].append(
				_child(
					tables.link,
					{"link_doctype": CONTACT, "link_name": name, "link_title": row.get("full_name")},
					address["name"],
					ADDRESS,
					"links",
					1,
					now,
					user,
				)
			)
			if address["is_primary_address"] or not row.get("address"):
				row["address"] = address["name"]
		for child in contact["emails"]:
			group["Contact Email"].append(
				_child(tables.email, child, name, CONTACT, "email_ids", None, now, user)
			)
		for child in contact["phones"]:
			group["Contact Phone"].append(
				_child(tables.phone, child, name, CONTACT, "phone_nos", None, now, user)
			)
		for index, link in enumerate(contact["links"], start=1):
			group["Dynamic Link"].append(_child(tables.link, link, name, CONTACT, "links", index, now, user))
		return group

	def _statements(self, groups: list[dict]):
		tables = self.tables
		for table in (tables.contact, tables.email, tables.phone, tables.address, tables.link):
			docs = [row for group in groups for row in group[table.doctype]]
			if docs:
				yield from insert_statements(table.doctype, *table.rows(docs))

	def _global_search(self, groups: list[dict]):
		"""The contacts' and addresses' global-search rows, as a save's `update_global_search` makes them
		(the record's global-search fields, then its child rows')."""
		if frappe.local.conf.get("disable_global_search") or not groups:
			return
		tables = self.tables
		entries = []
		for group in groups:
			contact = group[CONTACT][0]
			parts = tables.contact.search_content(contact)
			for child_table in (tables.email, tables.phone, tables.link):
				for child in group[child_table.doctype]:
					if child["parent"] == contact["name"]:
						parts += child_table.search_content(child)
			if parts:
				entries.append(
					(
						CONTACT,
						contact["name"],
						" ||| ".join(parts),
						0,
						cstr(contact.get("full_name"))[:140],
						"",
					)
				)
			for address in group[ADDRESS]:
				parts = tables.address.search_content(address)
				if parts:
					entries.append(
						(ADDRESS, address["name"], " ||| ".join(parts), 0, cstr(address["name"])[:140], "")
					)
		if not entries:
			return
		search_writer = getattr(self.run, "search_writer", None)
		if search_writer and not self.writer.row_by_row:  # on the run's second connection, as opportunities
			self.writer.result.search_pending = search_writer.submit(entries)  # (FIFO: theirs are in first)
		else:
			upsert_global_search(entries)


def _title(organization_name: str) -> str:
	"""The organization's title as a save of it keeps it (sanitized, like Frappe's `_sanitize_content`)."""
	from frappe.utils import sanitize_html

	name = (organization_name or "").strip()
	return sanitize_html(name) if "<" in name or ">" in name else name


def _child(
	table: Table, values_: dict, parent: str, parenttype: str, parentfield: str, idx, now, user
) -> dict:
	row = table.new_row(values_, now, user)
	row.update(
		name=frappe.generate_hash(length=10), parent=parent, parenttype=parenttype, parentfield=parentfield
	)
	if idx is not None:
		row["idx"] = idx
	return row


# ---------------------------------------------------------------- naming


def unique_address_names(bases: list[str]) -> list[str]:
	"""Address names as its autoname gives them: `<title>-<type>`, or when taken `<title>-<type>-N` from
	the naming series of that prefix (Frappe's `make_autoname(...-.#)`)."""
	state = taken_names(ADDRESS, bases)
	out = []
	for base in bases:
		key = values.match_key(base)
		entry = state.setdefault(key, [False, 0])
		if not entry[0]:
			entry[0] = True
			out.append(base)
		else:
			out.append(reserve_names(f"{base}-", 1, 1)[0])
	return out


# ---------------------------------------------------------------- the opportunity's defaults


def vcard_defaults() -> dict:
	"""What a card's opportunity gets where the import's defaults say nothing: Opportunity Settings'
	default stage (else the first open stage) and an expected close date that many days ahead (90 unless
	set). The assignee is the importing user unless the defaults name one, as for any import."""
	from frappe.utils import add_days, getdate

	settings = frappe.get_cached_doc("Opportunity Settings")
	stage = settings.get("import_default_stage") or frappe.db.get_value(
		"Opportunity Stage", {"stage_type": "Open", "disabled": 0}, "name", order_by="sequence asc"
	)
	days = settings.get("import_close_in_days")
	return {
		"sales_stage": stage,
		"expected_close_date": getdate(add_days(None, 90 if days in (None, "") else int(days))),
	}


def release_address(name: str):
	"""Let an Address an import made be deleted: the contacts that name it as their address (the link a
	save of theirs set) no longer do. Their `modified` stays: the import set it, undo takes it back."""
	contact = frappe.qb.DocType(CONTACT)
	frappe.qb.update(contact).set(contact.address, None).where(contact.address == name).run()
