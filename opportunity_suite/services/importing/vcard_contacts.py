"""vCards' Contacts and Organizations, made for a batch before its opportunities."""

import frappe

from opportunity_suite.services.importing import organizations, values


class VCardContacts:
	"""Mixed into BatchWriter: needs `run`, `result`, `fail`, `ensure_organizations`."""

	def make_contacts(self, parsed):
		"""Each card's Contact (matched by email; without one, by full name and company) and its
		Organization (from ORG)."""
		run = self.run
		emails = [r["_card"]["Email"] for _n, _row, r in parsed if r["_card"].get("Email")]
		by_email = {}
		if emails:
			for row in frappe.get_all(
				"Contact Email",
				filters={"email_id": ("in", emails), "parenttype": "Contact"},
				fields=["parent", "email_id"],
			):
				by_email.setdefault(values.match_key(row.email_id), row.parent)
		orgs = (
			self.ensure_organizations(
				[r["_card"]["Organization"] for _n, _row, r in parsed if r["_card"].get("Organization")],
				force=True,
			)
			if run.has_organization
			else {}
		)
		out = []
		for row_no, row, record in parsed:
			card = record.pop("_card")
			organization = card.get("Organization")
			if run.has_organization and organization and values.match_key(organization) not in orgs:
				self.fail(row_no, row, organizations.not_found_reason(self, organization))
				continue
			try:
				if card.get("Email"):  # the same person is the same email address
					contact = by_email.get(values.match_key(card["Email"]))
				else:  # no email: the same full name at the same company
					contact = frappe.db.get_value(
						"Contact",
						{
							"full_name": card.get("Full Name") or "",
							"company_name": card.get("Organization") or "",
						},
						"name",
					)
				if not contact:
					contact = self.create_contact(card, orgs.get(values.match_key(card.get("Organization"))))
					if card.get("Email"):
						by_email[values.match_key(card["Email"])] = contact
				if run.has_contact_field:
					record["contact"] = contact
				out.append((row_no, row, record))
			except frappe.ValidationError as e:
				frappe.clear_last_message()
				self.fail(row_no, row, str(e))
		return out

	def create_contact(self, card: dict, organization: str | None) -> str:
		first = card.get("First Name") or card.get("Full Name") or card.get("Email")
		contact = frappe.get_doc(
			{
				"doctype": "Contact",
				"first_name": first,
				"last_name": card.get("Last Name") if card.get("First Name") else None,
				"company_name": card.get("Organization"),
				"designation": card.get("Title"),
				"department": None,
				"email_ids": [{"email_id": card["Email"], "is_primary": 1}] if card.get("Email") else [],
				"phone_nos": [
					*([{"phone": card["Phone"], "is_primary_phone": 1}] if card.get("Phone") else []),
					*([{"phone": card["Mobile"], "is_primary_mobile_no": 1}] if card.get("Mobile") else []),
				],
				"links": [{"link_doctype": "Organization", "link_name": organization}]
				if organization
				else [],
			}
		)
		for email in filter(None, (e.strip() for e in (card.get("Other Emails") or "").split(","))):
			contact.append("email_ids", {"email_id": email})
		for phone in filter(None, (p.strip() for p in (card.get("Other Phones") or "").split(","))):
			contact.append("phone_nos", {"phone": phone})
		# as Frappe's Data Import does: `in_import` skips per-record side trips such as the gravatar lookup
		in_import = frappe.flags.in_import
		frappe.flags.in_import = True
		try:
			contact.insert()
		finally:
			frappe.flags.in_import = in_import
		self.result.created_records.setdefault("Contact", []).append(contact.name)
		return contact.name
