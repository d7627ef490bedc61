from frappe.contacts.address_and_contact import load_address_and_contact
from frappe.model.document import Document
from frappe.model.naming import append_number_if_name_exists

from opportunity_suite.services.duplicates import check_duplicate


class Organization(Document):
	def autoname(self):
		# named after the organization ("Acme", "Acme-1" for an accepted duplicate): a Contact linked to it
		# is then named "First Last-Acme"
		self.name = append_number_if_name_exists("Organization", self.organization_name.strip())

	def onload(self):
		load_address_and_contact(self)

	def validate(self):
		self.organization_name = (self.organization_name or "").strip()
		if not self.assigned_to:
			self.assigned_to = self.owner
		check_duplicate(self)
