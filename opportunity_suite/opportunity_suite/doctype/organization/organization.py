import frappe
from frappe import _
from frappe.contacts.address_and_contact import load_address_and_contact
from frappe.model.document import Document
from frappe.model.naming import append_number_if_name_exists

from opportunity_suite.services.duplicates import check_duplicate
from opportunity_suite.services.safe_names import check_name, organization_id


class Organization(Document):
	def autoname(self):
		# named after the organization ("Acme", "Acme-1" for an accepted duplicate): a Contact linked to it
		# is then named "First Last-Acme". The name drops quotes, angle brackets and control characters
		# (services/safe_names.py); the organization name keeps them.
		organization_name = (self.organization_name or "").strip()
		if not organization_name:
			frappe.throw(_("Organization Name is required."), exc=frappe.MandatoryError)
		self.name = append_number_if_name_exists("Organization", organization_id(organization_name))

	def before_rename(self, old, new, merge=False):
		check_name(self.doctype, new)

	def onload(self):
		load_address_and_contact(self)

	def validate(self):
		self.organization_name = (self.organization_name or "").strip()
		if not self.assigned_to:
			self.assigned_to = self.owner
		check_duplicate(self)
