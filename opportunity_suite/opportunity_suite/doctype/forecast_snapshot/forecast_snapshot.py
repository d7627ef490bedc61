from frappe.model.document import Document

from opportunity_suite.services.forecast_snapshots import refuse_changes


class ForecastSnapshot(Document):
	def validate(self):
		refuse_changes(self)  # a snapshot is what the pipeline was that day: never recomputed
