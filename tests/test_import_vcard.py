# ruff: noqa: F811 (the cleanup fixture is imported, then used as an argument)
"""vCards from real address books (tests/data/vcards/, origins in its README): what vobject gets wrong and
the reader gets right, the Contact a card becomes, and each way a card or a value can be bad costing only
that card or that value."""

import csv
import io
import json
from pathlib import Path

import frappe
import pytest
import vobject

from opportunity_suite.services.importing import vcard
from tests.import_fixtures import cleanup, new_import, prepare, run  # noqa: F401

DATA = Path(__file__).parent / "data" / "vcards"


def cards_of(name: str) -> list[vcard.Card]:
	with open(DATA / name, "rb") as f:
		return list(vcard.iter_cards(vcard.logical_lines(f)))


class Run(list):
	"""The run's batches (what it created), with its results file by row number as `.results`."""

	results: dict[int, dict]


def imported(cleanup, name: str, content: bytes | None = None, **settings):
	"""Import a file of tests/data/vcards (its bytes, with a unique tag on every e-mail and UID so runs
	never match each other's contacts); the run, its batches and results, and the tag."""
	tag = frappe.generate_hash(length=8)
	content = content if content is not None else (DATA / name).read_bytes()
	content = content.replace(b"@", f".{tag}@".encode()).replace(b"UID:", f"UID:{tag}-".encode())
	doc = new_import(cleanup, content, "vcf", **settings)
	prepare(doc)
	run(doc)
	batches = Run(
		frappe.get_all(
			"Opportunity Import Batch", {"import_run": doc.name}, ["created_records"], order_by="first_row"
		)
	)
	batches.results = results_of(doc) if doc.results_file else {}
	return doc, batches, tag


def results_of(doc) -> dict[int, dict]:
	"""The run's results file (what a person downloads), by row number."""
	content = frappe.get_doc("File", {"file_url": doc.results_file}).get_content()
	rows = list(csv.reader(io.StringIO(content.decode() if isinstance(content, bytes) else content)))
	return {int(r[0]): dict(zip(rows[0], r, strict=True)) for r in rows[1:]}


def created(batches, doctype: str) -> list[str]:
	return [n for b in batches for n in json.loads(b.created_records or "{}").get(doctype, [])]


def _with_status(batches, status: str) -> dict[int, str]:
	return {n: r["Reason or Warnings"] for n, r in batches.results.items() if r["Status"] == status}


def failed(batches) -> dict[int, str]:
	return _with_status(batches, "failed")


def skipped(batches) -> dict[int, str]:
	return _with_status(batches, "skipped")


def warnings(batches) -> dict[int, list[str]]:
	return {
		n: r["Reason or Warnings"].split("; ") for n, r in batches.results.items() if r["Status"] == "created"
	}


def contact_of(batches, row_index: int = 0):
	return frappe.get_doc("Contact", created(batches, "Contact")[row_index])


# ---------------------------------------------------------------- what vobject gets wrong


def test_vobject_cuts_text_at_a_comma_the_reader_keeps_it():
	"""Outlook and Lotus Notes write commas in FN, NOTE, TITLE and ORG unescaped; vobject keeps only the
	text before the first one."""
	text = "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Smith;John\r\nFN:Smith, John\r\nNOTE:calls after 3pm, not Fridays\r\nTITLE:CEO, Founder\r\nORG:Acme, Inc.;R&D\r\nEND:VCARD\r\n"
	parsed = vobject.readOne(text)
	assert (parsed.fn.value, parsed.note.value, parsed.title.value) == ("Smith", "calls after 3pm", "CEO")
	assert parsed.org.value[0] == ["Acme", " Inc."]
	(card,) = vcard.iter_cards(enumerate(text.encode().split(b"\r\n"), start=1))
	assert (card.full_name, card.note, card.title) == (
		"Smith, John",
		"calls after 3pm, not Fridays",
		"CEO, Founder",
	)
	assert (card.organization, card.department) == ("Acme, Inc.", "R&D")


def test_vobject_fails_on_what_real_exports_hold_the_reader_reads_them():
	# 2.1's quoted-printable soft line break (Outlook, Android)
	soft_break = (
		"BEGIN:VCARD\r\nVERSION:2.1\r\nN:Dupré;René\r\nFN:René\r\n"
		"NOTE;ENCODING=QUOTED-PRINTABLE;CHARSET=UTF-8:Rendez-vous =C3=A0 Lyon=0D=0A=\r\nle mardi\r\nEND:VCARD\r\n"
	)
	with pytest.raises(vobject.base.ParseError):
		vobject.readOne(soft_break)
	# a fold inside a UTF-8 character: the file isn't UTF-8 text until it is unfolded
	folded = (DATA / "fold-inside-character.vcf").read_bytes()
	with pytest.raises(UnicodeDecodeError):
		vobject.readOne(folded.decode("utf-8"))
	(card,) = cards_of("fold-inside-character.vcf")
	assert card.full_name == "Zoë Šťastná-Đorđević"
	assert card.note == "Ärztin für Allgemeinmedizin – Praxis in Köln"
	# a value that doesn't decode: vobject loses the card (and a stream of them stops there)
	with pytest.raises(UnicodeDecodeError):
		vobject.readOne(
			"BEGIN:VCARD\r\nVERSION:2.1\r\nN:Dupré;René\r\nFN:René\r\n"
			"TITLE;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:Directeur g=E9n=E9ral\r\nEND:VCARD\r\n"
		)
	first, second = cards_of("bad-quoted-printable.vcf")
	assert (first.full_name, first.title, first.note) == ("René Dupré", "", "Rendez-vous à Lyon\r\nle mardi")
	assert "TITLE" in first.warnings[0] and "does not decode as UTF-8" in first.warnings[0]
	assert second.full_name == "Claire Martin" and not second.warnings
	# a card cut off: vobject stops the file; the reader keeps the cards before it
	with pytest.raises(vobject.base.ParseError):
		list(vobject.readComponents((DATA / "damaged-truncated.vcf").read_text()))
	assert [c.error is None for c in cards_of("damaged-truncated.vcf")] == [True, True, False]


def test_vobject_keeps_apples_quoted_type_list_and_escaped_url_the_reader_reads_them():
	text = 'BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Noah\r\nN:Becker;Noah;;;\r\nTEL;TYPE="voice,cell":+1 555 0199\r\nURL:http\\://www.ibm.com\r\nEND:VCARD\r\n'
	parsed = vobject.readOne(text)
	assert parsed.tel.params["TYPE"] == ["voice,cell"] and parsed.url.value == "http\\://www.ibm.com"
	(card,) = vcard.iter_cards(enumerate(text.encode().split(b"\r\n"), start=1))
	assert card.phones[0].kind == "Cell" and card.website == "http://www.ibm.com"


# ---------------------------------------------------------------- real exports, read


def test_real_exports_read_as_their_applications_wrote_them():
	(outlook,) = cards_of("ez-vcard-John_Doe_MS_OUTLOOK.vcf")
	assert (outlook.full_name, outlook.prefix, outlook.middle_name, outlook.suffix) == (
		"Mr. John Richter James Doe Sr.",
		"Mr.",
		"Richter James",
		"Sr.",
	)
	assert (outlook.organization, outlook.department, outlook.title) == ("IBM", "Accounting", "Money Counter")
	assert [(p.value, p.kind) for p in outlook.phones] == [
		("(905) 555-1234", "Work"),
		("(905) 666-1234", "Home"),
	]
	assert [a.kind for a in outlook.addresses] == ["Office", "Personal"] and outlook.addresses[0].preferred
	(iphone,) = cards_of("ez-vcard-John_Doe_IPHONE.vcf")
	assert [p.kind for p in iphone.phones] == ["Cell", "Home", "Work", "Fax", "Fax", "Pager", "Other"]
	assert iphone.phones[0].preferred and iphone.website == "http://www.ibm.com"
	(evolution,) = cards_of("ez-vcard-John_Doe_EVOLUTION.vcf")
	assert (evolution.middle_name, evolution.department) == ("Richter, James", "Accounting, Dungeon")
	assert evolution.uid == "477343c8e6bf375a9bac1f96a5000837"
	assert evolution.addresses[0].country == "United States of America"
	(lotus,) = cards_of("ez-vcard-John_Doe_LOTUS_NOTES.vcf")
	assert (lotus.organization, lotus.department, lotus.title) == ("IBM", "SUN", "Generic Accountant")
	assert [e.value for e in lotus.emails] == ["john.doe@ibm.com", "billy_bob@gmail.com"]
	android = cards_of("ez-vcard-John_Doe_ANDROID.vcf")
	assert [c.error is None for c in android] == [False, False, True, True, True, True]  # 1, 2: no name
	assert android[2].full_name == "Ñ Ñ Ñ Ñ Ñ" and android[4].organization == "Ñ" * 12
	assert any("does not decode" in w for w in android[5].warnings)  # ez-vcard's stray =80
	assert [c.full_name for c in cards_of("ez-vcard-gmail-list.vcf")] == [
		"Arnold Smith",
		"Chris Beatle",
		"Doug White",
	]
	(gmail,) = cards_of("ez-vcard-John_Doe_GMAIL.vcf")
	assert gmail.note.endswith("DAMAGE.\nFavotire Color: Blue") and gmail.website == "http://www.ibm.com"


# ---------------------------------------------------------------- the Contact a card becomes


def test_the_contact_keeps_what_the_card_says(cleanup):
	doc, batches, tag = imported(cleanup, "full-card.vcf")
	assert (doc.created_count, doc.failed_count, doc.status) == (1, 0, "Completed"), doc.error
	contact = contact_of(batches)
	assert contact.full_name == "Dr. Johanna Maria van der Berg, PhD"  # FN as written
	assert (
		contact.salutation,
		contact.first_name,
		contact.middle_name,
		contact.last_name,
		contact.suffix,
	) == (
		"Dr",
		"Johanna",
		"Maria",
		"van der Berg",
		"PhD",
	)
	assert (contact.company_name, contact.department, contact.designation) == (
		"Berg & Partners, B.V.",  # the first ORG and TITLE
		"Research, Lab 2",
		"Head of Research",
	)
	assert [(e.email_id, e.email_type, e.is_primary) for e in contact.email_ids] == [
		(f"j.vanderberg.{tag}@berg-partners.example.nl", "Work", 0),
		(f"johanna.{tag}@example.nl", "Home", 1),  # PREF marks it, and it stays second
		(f"jmvdb.{tag}@example.org", "Other", 0),
	]
	assert contact.email_id == f"johanna.{tag}@example.nl"
	assert [
		(p.phone, p.phone_type, p.is_primary_phone, p.is_primary_mobile_no) for p in contact.phone_nos
	] == [
		("+31 20 555 0100", "Work", 1, 0),
		("+31 6 5550 0101", "Cell", 0, 1),
		("+31 20 555 0102", "Home", 0, 0),
		("+31 20 555 0103", "Fax", 0, 0),
		("+31 6 5550 0104", "Pager", 0, 0),
	]
	assert (contact.phone, contact.mobile_no) == ("+31 20 555 0100", "+31 6 5550 0101")
	assert contact.notes == "Prefers mornings, in Dutch or English.\nAssistant: Pieter"
	assert contact.website == "https://berg-partners.example.nl"
	assert contact.vcard_uid == f"{tag}-urn:uuid:6a1d7c5e-2f3b-4c8d-9e0f-112233445566"
	organization = frappe.db.get_value("Organization", {"organization_name": "Berg & Partners, B.V."})
	assert [(link.link_doctype, link.link_name) for link in contact.links] == [("Organization", organization)]
	assert contact.name == f"Johanna Maria van der Berg-{organization}"  # as Frappe names it
	address = frappe.get_doc("Address", contact.address)
	assert (address.address_line1, address.address_line2, address.city, address.state, address.pincode) == (
		"Keizersgracht 123",
		"Building C",
		"Amsterdam",
		"Noord-Holland",
		"1015 CJ",
	)
	assert (address.country, address.address_type, address.is_primary_address) == ("Netherlands", "Office", 1)
	assert [(link.link_doctype, link.link_name) for link in address.links] == [("Contact", contact.name)]
	opportunity = frappe.get_doc("Opportunity", created(batches, "Opportunity")[0])
	assert (opportunity.contact, opportunity.organization) == (contact.name, organization)
	contact.save()  # what the import stored is a Contact a save accepts


def test_contacts_are_named_as_frappe_names_them_when_the_name_is_taken(cleanup):
	tag = frappe.generate_hash(length=6)
	card = "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Tran;Linh {tag};;;\r\nFN:Linh Tran\r\nEMAIL:{mail}@example.vn\r\nEND:VCARD\r\n"
	existing = frappe.get_doc(
		{"doctype": "Contact", "first_name": f"Linh {tag}", "last_name": "Tran"}
	).insert()
	cleanup["Contact"].append(existing.name)
	content = "".join(card.format(tag=tag, mail=f"{tag}-{i}") for i in range(3)).encode()
	doc, batches, _tag = imported(cleanup, "", content)
	assert doc.created_count == 3
	assert sorted(created(batches, "Contact")) == [f"Linh {tag} Tran-{n}" for n in (1, 2, 3)]


# ---------------------------------------------------------------- a bad value loses that value


def test_a_value_a_contact_refuses_loses_that_value_with_a_warning(cleanup):
	doc, batches, tag = imported(cleanup, "bad-values.vcf")
	assert (doc.created_count, doc.failed_count) == (2, 0), failed(batches)
	simon, john = (frappe.get_doc("Contact", name) for name in created(batches, "Contact"))
	assert [p.phone for p in simon.phone_nos] == ["+1-418-262-6501"]
	assert [e.email_id for e in simon.email_ids] == [f"simon.{tag}@nomis80.org"]
	from frappe.utils import sanitize_html

	assert simon.notes == sanitize_html("Met at IETF <img src=x onerror=alert(1)> in Quebec")  # as a save
	assert "onerror" not in simon.notes
	assert [p.phone for p in john.phone_nos] == ["+1 512 555 0147"]
	found = warnings(batches)
	assert any("+1-418-656-9254;ext=102" in w and "not a valid phone number" in w for w in found[2])
	assert any("viagenie.ca" in w and "not a valid email address" in w for w in found[2])
	assert any("BusinessPhone" in w for w in found[3])


def test_outlook_2003_placeholders_lose_the_phones_not_the_card(cleanup):
	doc, batches, _tag = imported(cleanup, "ez-vcard-outlook-2003.vcf")
	assert (doc.created_count, doc.failed_count) == (1, 0)
	contact = contact_of(batches)
	assert not contact.phone_nos and contact.full_name == "John Doe III"
	assert {w.split("“")[1].split("”")[0] for w in warnings(batches)[2]} >= {
		"BusinessPhone",
		"HomePhone",
		"MobilePhone",
		"BusinessFaxPhone",
	}
	address = frappe.get_doc("Address", contact.address)
	assert (address.city, address.country) == ("Austin", "United States")


def test_quoted_printable_that_doesnt_decode_loses_that_value(cleanup):
	doc, batches, _tag = imported(cleanup, "bad-quoted-printable.vcf")
	assert (doc.created_count, doc.failed_count) == (2, 0)
	rene = contact_of(batches)
	assert (rene.full_name, rene.designation) == ("René Dupré", None)
	assert rene.notes == "Rendez-vous à Lyon\r\nle mardi"
	assert any("does not decode" in w for w in warnings(batches)[2])


def test_a_fold_inside_a_character_is_unfolded_before_decoding(cleanup):
	doc, batches, _tag = imported(cleanup, "fold-inside-character.vcf")
	assert (doc.created_count, doc.failed_count) == (1, 0)
	contact = contact_of(batches)
	assert (contact.full_name, contact.notes) == (
		"Zoë Šťastná-Đorđević",
		"Ärztin für Allgemeinmedizin – Praxis in Köln",
	)


# ---------------------------------------------------------------- a bad card costs that card


def test_a_truncated_last_card_fails_saying_so_and_the_others_import(cleanup):
	doc, batches, _tag = imported(cleanup, "damaged-truncated.vcf")
	assert (doc.rows_read, doc.created_count, doc.failed_count) == (3, 2, 1)
	assert "cut off" in failed(batches)[4] and "Card 3" in failed(batches)[4]


def test_a_card_without_a_name_fails_saying_so_and_the_others_import(cleanup):
	doc, batches, _tag = imported(cleanup, "damaged-no-name.vcf")
	assert (doc.rows_read, doc.created_count, doc.failed_count) == (3, 2, 1)
	assert "has no name" in failed(batches)[3]
	assert len(created(batches, "Contact")) == 2


def test_a_file_with_no_card_is_refused_saying_so(cleanup):
	doc = new_import(cleanup, (DATA / "damaged-csv-renamed.vcf").read_bytes(), "vcf")
	with pytest.raises(frappe.ValidationError, match="holds no vCard"):
		prepare(doc)


def test_a_repeated_uid_is_the_same_person_skipped_naming_the_first_card(cleanup):
	doc, batches, _tag = imported(cleanup, "repeated-uid.vcf")
	assert (doc.rows_read, doc.created_count, doc.skipped_count, doc.failed_count) == (4, 3, 1, 0)
	assert skipped(batches) == {5: "Duplicate: same vCard UID as card 3."}
	assert batches.results[4]["Status"] == "created"
	assert len(created(batches, "Contact")) == 3


def test_a_repeated_uid_in_a_later_batch_is_skipped_too(cleanup):
	tag = frappe.generate_hash(length=6)
	content = (DATA / "repeated-uid.vcf").read_bytes()
	doc = new_import(
		cleanup, content.replace(b"@", f".{tag}@".encode()).replace(b"UID:", f"UID:{tag}".encode()), "vcf"
	)
	prepare(doc)
	run(doc, batch_size=2)
	assert (doc.created_count, doc.skipped_count) == (3, 1)


# ---------------------------------------------------------------- defaults


def test_a_vcard_import_starts_with_working_defaults(cleanup):
	from frappe.utils import add_days, getdate

	doc, batches, _tag = imported(cleanup, "ez-vcard-gmail-list.vcf")  # no defaults typed
	assert (doc.created_count, doc.failed_count) == (3, 0), failed(batches)
	first_open = frappe.get_all(
		"Opportunity Stage", {"stage_type": "Open", "disabled": 0}, pluck="name", order_by="sequence", limit=1
	)[0]
	for name in created(batches, "Opportunity"):
		opportunity = frappe.get_doc("Opportunity", name)
		assert opportunity.sales_stage == first_open
		assert getdate(opportunity.expected_close_date) == getdate(add_days(None, 90))
		assert opportunity.assigned_to == "Administrator"
	settings = frappe.get_single("Opportunity Settings")
	settings.import_default_stage, settings.import_close_in_days = "Qualification", 30
	settings.save()
	try:
		_again, batches, _tag = imported(
			cleanup, "ez-vcard-gmail-list.vcf", defaults='{"sales_stage": "Needs Analysis"}'
		)
		made = frappe.get_doc("Opportunity", created(batches, "Opportunity")[0])
		assert made.sales_stage == "Needs Analysis"  # the form's value beats the settings'
		assert getdate(made.expected_close_date) == getdate(add_days(None, 30))
	finally:
		settings.import_default_stage, settings.import_close_in_days = None, 90
		settings.save()
		frappe.db.commit()


def test_undo_removes_the_contacts_and_addresses_the_run_made(cleanup):
	from opportunity_suite.services.importing import undo

	doc, batches, _tag = imported(cleanup, "ez-vcard-rfc2426-example.vcf")
	assert doc.created_count == 2
	contacts, addresses = created(batches, "Contact"), created(batches, "Address")
	assert len(contacts) == 2 and len(addresses) == 2
	report = undo.undo(doc)
	frappe.db.commit()
	assert not report["kept"] and not report["changed_since"], report
	assert not frappe.get_all("Contact", {"name": ("in", contacts)})
	assert not frappe.get_all("Address", {"name": ("in", addresses)})


def test_an_org_no_organization_can_be_made_of_loses_that_value_not_the_card(cleanup):
	content = (
		b"BEGIN:VCARD\r\nVERSION:3.0\r\nN:Evans;Mallory;;;\r\nFN:Mallory Evans\r\n"
		b"ORG:New Organization Ltd\r\nEMAIL:mallory@example.com\r\nEND:VCARD\r\n"  # Frappe's NameError
		b"BEGIN:VCARD\r\nVERSION:3.0\r\nN:<b>Trent</b>;;;;\r\nFN:Trent\r\nEMAIL:trent@example.com\r\nEND:VCARD\r\n"
	)
	doc, batches, _tag = imported(cleanup, "", content)
	assert (doc.created_count, doc.failed_count) == (1, 1), (doc.status, doc.error, failed(batches))
	assert "'<', '>'" in failed(batches)[3]  # a save can't name that contact either
	assert "could not be created" in warnings(batches)[2][0]
	contact = contact_of(batches)
	assert not contact.links and not created(batches, "Organization")
	assert not frappe.db.get_value("Opportunity", created(batches, "Opportunity")[0], "organization")


def test_an_org_with_angle_brackets_makes_the_organization_a_save_makes(cleanup):
	"""`ORG:<svg onload=alert(1)> Ltd`: the organization a desk save makes of that name (its ID without
	`<` and `>`, its name sanitized), linked to the card's contact and opportunity."""
	tag = frappe.generate_hash(length=8)
	hostile = f"<svg onload=alert(1)> {tag} Ltd"
	content = (
		"BEGIN:VCARD\r\nVERSION:3.0\r\nN:Evans;Mallory;;;\r\nFN:Mallory Evans\r\n"
		f"ORG:{hostile}\r\nEMAIL:mallory@example.com\r\nEND:VCARD\r\n"
	).encode()
	saved = frappe.get_doc({"doctype": "Organization", "organization_name": hostile}).insert()
	as_saved = (saved.name, saved.organization_name)  # what a desk save stores
	frappe.delete_doc("Organization", saved.name, force=True)
	frappe.db.commit()
	doc, batches, _tag = imported(cleanup, "", content)
	assert (doc.created_count, doc.failed_count) == (1, 0), (doc.status, doc.error, failed(batches))
	(made,) = created(batches, "Organization")
	stored = frappe.db.get_value("Organization", made, "organization_name")
	assert (made, stored) == as_saved and "onload" not in stored
	contact = contact_of(batches)
	assert [(link.link_name, link.link_title) for link in contact.links] == [(made, stored)]
	assert "onload" not in (contact.company_name or "")
	assert frappe.db.get_value("Opportunity", created(batches, "Opportunity")[0], "organization") == made
