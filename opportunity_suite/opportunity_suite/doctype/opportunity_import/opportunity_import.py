import frappe
from frappe import _
from frappe.model.document import Document

from opportunity_suite.services.importing.common import PROGRESS_FIELDS
from opportunity_suite.services.importing.readers import file_kind

# written by the run itself (services/importing), never by a save of the form: a form opened before or
# during a run holds stale values, and saving it must not rewind the run's state
RUN_FIELDS = (
	*PROGRESS_FIELDS,
	"checkpoint",
	"failed_rows_file",
	"results_file",
	"job_id",
	"run_token",
	"heartbeat",
	"started_on",
	"finished_on",
	"error",
	"undo_report",
)


class OpportunityImport(Document):
	def validate(self):
		before = self.get_doc_before_save()
		if before:
			for fieldname in RUN_FIELDS:
				self.set(fieldname, before.get(fieldname))
		if self.import_file:
			self.file_kind = file_kind(self.import_file)
		if (
			self.has_value_changed("import_file")
			and not self.is_new()
			and self.status not in ("Pending", "Failed")
		):
			frappe.throw(_("The file of an import that has run can't be changed."))
