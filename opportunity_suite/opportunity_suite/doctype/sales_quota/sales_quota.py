from frappe.model.document import Document

from opportunity_suite.services.quotas import validate_quota


class SalesQuota(Document):
	def validate(self):
		validate_quota(self)
