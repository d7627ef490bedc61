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

from opportunity_suite.services.importing import documents, organizations, values
from opportunity_suite.services.importing.common import readable
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


class ContactNameError(frappe.ValidationError):
	pass


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
		self.lookups = documents.Lookups()
		self.contact_validate = documents.contact_validate(self.lookups)
		self.address_validate = documents.address_validate(self.lookups)
		user = frappe.session.user
		self.new_documents = documents.NewDocuments(user)
		self.may_create_contact = documents.may_create(CONTACT, user)
		self.may_create_address = documents.may_create(ADDRESS, user)
		# why this site's contacts must be saved one by one (another app's handlers, a webhook, …), or None
		self.per_document = documents.per_document_reason(CONTACT) or documents.per_document_reason(ADDRESS)


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
		self.tables.lookups.load_users([e.value for c in cards for e in c.emails])
		self.tables.lookups.load_titles("Organization", list(orgs.values()))
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
					writer.fail(row_no, row, readable(e))
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
		"""The Contact (its document, validated as a save validates it, and its addresses'), to be named in
		`attach` and written in `write`. A value a save refuses is left out with a warning and the
		document built again (the checks are then Frappe's validators, value by value: `Table.clean`)."""
		warnings = warnings_of(self.writer).setdefault(row_no, [])
		before = len(warnings)
		try:
			return self._build_contact(row_no, card, organization, warnings)
		finally:
			for warning in warnings[before:]:  # what the contact lost: the preview marks its cell
				self.writer.note(row_no, "contact", warning)

	def _build_contact(self, row_no: int, card: Card, organization: str | None, warnings: list) -> dict:
		tables = self.tables
		if not tables.may_create_contact:
			raise frappe.ValidationError(_("You may not create contacts."))
		try:
			doc = self._validated_contact(card, organization, None)
		except frappe.ValidationError as e:
			if isinstance(e, ContactNameError):
				raise
			frappe.clear_last_message()
			doc = self._validated_contact(card, organization, warnings)
		base = doc.name  # named in `attach`
		tables.lookups.titles[(CONTACT, base)] = doc.get_title()  # the addresses' link title
		return {
			"doc": doc,
			"base": base,
			"addresses": self._addresses(card, base, warnings) if tables.may_create_address else [],
			"row_no": row_no,
		}

	def _validated_contact(self, card: Card, organization: str | None, warnings: list[str] | None):
		"""The card's Contact as a document that has passed what a save runs before its INSERT
		(`documents.prepare`); with `warnings`, each value a save would refuse left out first."""
		from frappe.model.naming import validate_name

		new_documents = self.tables.new_documents
		doc = new_documents.new(self._contact_values(card, organization, warnings))
		doc.flags.card_full_name = card.full_name  # FN as written (services/contacts.keep_card_full_name)
		base = doc._get_full_name()  # as Contact.autoname: the full name, then its first link
		if not base:
			base = card.full_name or (doc.email_ids[0].email_id if doc.email_ids else "")
		if organization:
			base = f"{base}-{organization.strip()}"
		try:
			base = validate_name(CONTACT, base)  # a save refuses `<` and `>` in a name, as here
		except frappe.NameError as e:  # Frappe's message, as a save gives it
			frappe.clear_last_message()
			raise ContactNameError(_("The contact can't be named {0}: {1}").format(base, e)) from None
		if len(base) > 140:
			base = base[:140].strip()
		# the name's base until `attach` makes it unique (Frappe names a document before validating it)
		new_documents.prepare(doc, self.writer.now, self.tables.contact_validate, name=base)
		return doc

	def _contact_values(self, card: Card, organization: str | None, warnings: list[str] | None) -> dict:
		tables = self.tables
		clean = (lambda table, row, what: table.clean(row, warnings, what)) if warnings is not None else None
		first = card.first_name or (card.full_name if not (card.last_name or card.middle_name) else "")
		salutation = (
			tables.salutations.get(values.match_key(card.prefix.rstrip("."))) if card.prefix else None
		)
		fields = {
			"first_name": first,
			"middle_name": card.middle_name,
			"last_name": card.last_name,
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
		if clean:
			clean(tables.contact, fields, "Contact")
		emails = []
		for email in card.emails:
			row = {"email_id": email.value, "email_type": email.kind}
			if clean:
				clean(tables.email, row, "Email")
			if row["email_id"]:
				emails.append((row, email.preferred))
		phones = []
		for phone in card.phones:
			row = {"phone": phone.value, "phone_type": phone.kind}
			if clean:
				clean(tables.phone, row, "Phone")
			if row["phone"]:
				phones.append((row, phone))
		# the primary e-mail: the first PREF one, else the first; phone and mobile alike (no reordering)
		primary_email = next((r for r, pref in emails if pref), emails[0][0] if emails else None)
		for row, _pref in emails:
			row["is_primary"] = int(row is primary_email)
		mobiles = [(r, p) for r, p in phones if p.kind == "Cell"]
		others = [(r, p) for r, p in phones if p.kind not in ("Cell", "Fax", "Pager")]
		primary_mobile = next((r for r, p in mobiles if p.preferred), mobiles[0][0] if mobiles else None)
		primary_phone = next((r for r, p in others if p.preferred), others[0][0] if others else None)
		for row, _p in phones:
			row.update(
				is_primary_phone=int(row is primary_phone), is_primary_mobile_no=int(row is primary_mobile)
			)
		return {
			"doctype": CONTACT,
			**fields,
			"email_ids": [r for r, _p in emails],
			"phone_nos": [r for r, _p in phones],
			"links": [{"link_doctype": "Organization", "link_name": organization}] if organization else [],
		}

	def _addresses(self, card: Card, contact_base: str, warnings: list[str]) -> list:
		"""The card's addresses as Address documents validated as a save validates them, linked to the
		contact (its name is set in `attach`); one a save would refuse is left out with a warning."""
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
			title = f"{cstr(card.full_name or card.organization).strip()}-{cstr(_(address.kind)).strip()}"
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
			doc = None
			for attempt in (0, 1):
				if attempt:
					tables.address.clean(row, warnings, "Address")
					if not (row["address_line1"] and row["city"] and row["address_title"]):
						break
				doc = tables.new_documents.new(
					{
						"doctype": ADDRESS,
						**row,
						"links": [{"link_doctype": CONTACT, "link_name": contact_base}],
					}
				)
				try:
					tables.new_documents.prepare(doc, self.writer.now, tables.address_validate, name=title)
					break
				except frappe.ValidationError as e:
					frappe.clear_last_message()
					if attempt:
						warnings.append(_("Address “{0}” was left out: {1}").format(shown, readable(e)))
					doc = None
			if doc is not None:
				out.append(doc)
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
		"""Name the new contacts (as Contact.autoname would: the name, else `-1`, `-2`, …) and put each on
		its opportunity."""
		unnamed = [c for c in self.pending.values() if not c.get("named")]
		if unnamed:
			names = unique_names(CONTACT, [c["base"] for c in unnamed], self.names_state)
			for contact, name in zip(unnamed, names, strict=True):
				contact["named"] = True
				contact["doc"].name = name
				documents.name_children(contact["doc"])
				for address in contact["addresses"]:
					address.links[0].link_name = name
		if self.run.has_contact_field:
			for row_no, _row, record in parsed:
				if row_no in self.pending:
					record["contact"] = self.pending[row_no]["doc"].name
		return parsed

	# -------------------------------------------------------- write

	def write(self):
		"""INSERT the contacts (their e-mails, phones and links) and their addresses of the rows whose
		opportunity was written, a multi-row INSERT per table; one `insert()` each where the site has
		what a batch doesn't run (`documents.per_document_reason`) or the batch is redone row by row."""
		failed = {f[0] for f in self.writer.result.failed}
		contacts = [c for row_no, c in self.pending.items() if row_no not in failed]
		if not contacts:
			return
		titles = [
			f"{cstr(address.address_title).strip()}-{cstr(_(address.address_type)).strip()}"
			for contact in contacts
			for address in contact["addresses"]
		]
		address_names = iter(unique_address_names(titles))
		for contact in contacts:
			doc = contact["doc"]
			for address in contact["addresses"]:
				address.name = next(address_names)
				documents.name_children(address)
				if address.is_primary_address or not doc.get("address"):
					doc.address = address.name
		if self.tables.per_document or self.writer.row_by_row:
			contacts = self._insert_one_by_one(contacts)
		else:
			docs = [d for c in contacts for d in (c["doc"], *c["addresses"])]
			execute(
				s
				for doctype, (columns, rows) in documents.rows_of(docs).items()
				for s in insert_statements(doctype, columns, rows)
			)
			documents.after_batch(docs)
			self._global_search(docs)
		created = self.writer.result.created_records
		for contact in contacts:
			created.setdefault(CONTACT, []).append(contact["doc"].name)
			if contact["addresses"]:
				created.setdefault(ADDRESS, []).extend(a.name for a in contact["addresses"])

	def _insert_one_by_one(self, contacts: list[dict]) -> list[dict]:
		"""Each contact and its addresses saved with `insert()` (a row the database refuses loses its
		contact, not the batch). The names are those `attach` gave (the opportunities link them)."""
		written = []
		in_import = frappe.flags.in_import
		frappe.flags.in_import = True
		try:
			for contact in contacts:
				frappe.db.savepoint("opportunity_import_contact")
				try:
					saved = _fresh(contact["doc"]).insert(set_name=contact["doc"].name)
					for address in contact["addresses"]:
						_fresh(address).insert(set_name=address.name)
					if contact["doc"].get("address"):  # a link to an address saved after its contact
						frappe.db.set_value(
							CONTACT, saved.name, "address", contact["doc"].address, update_modified=False
						)
					written.append(contact)
				except Exception as e:
					frappe.db.rollback(save_point="opportunity_import_contact")
					frappe.clear_last_message()
					self.writer.warn(
						contact["row_no"],
						_("The contact could not be saved: {0}").format(readable(e)),
						"contact",
					)
		finally:
			frappe.flags.in_import = in_import
		return written

	def _global_search(self, docs: list):
		"""The global-search rows `update_global_search` would queue for the saved documents."""
		if frappe.local.conf.get("disable_global_search") or not docs:
			return
		entries = [entry for doc in docs if (entry := documents.search_entry(doc))]
		if not entries:
			return
		search_writer = getattr(self.run, "search_writer", None)
		if search_writer and not self.writer.row_by_row:  # on the run's second connection, as opportunities
			self.writer.result.search_pending = search_writer.submit(entries)  # (FIFO: theirs are in first)
		else:
			upsert_global_search(entries)


def _fresh(doc):
	"""A new, unsaved copy of a prepared document (its values and child rows), for `insert()`."""
	values = doc.as_dict(no_default_fields=True, convert_dates_to_str=True)
	for table in doc.meta.get_table_fields():
		values[table.fieldname] = [
			child.as_dict(no_default_fields=True) for child in doc.get(table.fieldname)
		]
	values.pop("address", None)  # set once its address is saved
	values["doctype"] = doc.doctype
	fresh = frappe.get_doc(values)
	fresh.flags.card_full_name = doc.flags.card_full_name
	return fresh


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
