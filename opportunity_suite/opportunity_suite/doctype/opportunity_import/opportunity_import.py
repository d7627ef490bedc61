import frappe
from frappe import _
from frappe.model.document import Document

from opportunity_suite.services.importing.common import PROGRESS_FIELDS
from opportunity_suite.services.importing.file_access import check_can_read
from opportunity_suite.services.importing.mapping import importable_field_options
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
	def onload(self):
		# the fields the column map and the defaults may choose from, by label (services/importing/mapping)
		self.set_onload("importable_fields", importable_field_options())

	def validate(self):
		before = self.get_doc_before_save()
		for fieldname in RUN_FIELDS:  # a new import starts Pending with no counts, whatever a caller sent
			self.set(fieldname, before.get(fieldname) if before else self._initial(fieldname))
		if self.import_file:
			self.file_kind = file_kind(self.import_file)
			if self.is_new() or self.has_value_changed("import_file"):
				check_can_read(self.import_file)  # before Frappe attaches a copy of it to the import
		if (
			self.has_value_changed("import_file")
			and not self.is_new()
			and self.status not in ("Pending", "Failed")
		):
			frappe.throw(_("The file of an import that has run can't be changed."))

	def _initial(self, fieldname: str):
		df = self.meta.get_field(fieldname)
		return df.default or (0 if df.fieldtype == "Int" else None)
