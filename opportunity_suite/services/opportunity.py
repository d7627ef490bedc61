"""The opportunity's save rules, in one place: the controller's `validate` and the importer call
`validate_opportunity`, so a record imported and the same record saved in the desk store the same thing.

`doc` is an Opportunity Document (a save) or a dict of its values (an import row, `frappe._dict`).
What the rules read besides the record — stages, the amount and forecast rules, disabled picklist
values, the lines' totals of records taking their amount from their lines — comes in an
`OpportunityContext`: a save gets one that looks each up through Frappe's caches, an import builds one
per batch that reads each once."""

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.query_builder.functions import Sum
from frappe.utils import flt

from opportunity_suite.services.conversion import protect_conversion_fields
from opportunity_suite.services.field_checks import check_values
from opportunity_suite.services.forecast import amount_rules, compute_amounts
from opportunity_suite.services.forecast_categories import apply_forecast_category
from opportunity_suite.services.history import apply_stage_since
from opportunity_suite.services.items import apply_opportunity_lines
from opportunity_suite.services.picklists import check_picklist_values, disabled_picklist_values
from opportunity_suite.services.stages import apply_stage, get_stage
from opportunity_suite.services.stale import validate_snooze

DOCTYPE = "Opportunity"
LINE_DOCTYPE = "Line Item"


class ProbabilityError(frappe.ValidationError):
	pass


class OpportunityContext:
	"""What validating opportunities reads besides the record. `for_batch` reads it once for many
	records (stages as they are asked for, the lines' totals given with `load_line_totals`); the default
	(a save) leaves each lookup to the service's own cache."""

	def __init__(self, batch: bool = False):
		self.batch = batch
		self.stages: dict = {}
		self.amount_rules = amount_rules() if batch else None
		self.disabled_picklist_values = disabled_picklist_values(frappe.get_meta(DOCTYPE)) if batch else None
		self.line_totals: dict[str, float] = {}
		# an import brings history along: a closed-lost deal without a reason is imported; a save in the
		# desk still asks for one
		self.require_lost_reason = not batch
		self.now = None  # an import's batch stamp (when its stage changes happen); a save: the clock

	@classmethod
	def for_batch(cls) -> "OpportunityContext":
		return cls(batch=True)

	def stage(self, name: str | None):
		if not self.batch:
			return None  # apply_stage reads it from the document cache
		if name not in self.stages:
			self.stages[name] = get_stage(name)
		return self.stages[name]

	def load_line_totals(self, names: list[str]):
		"""The total of each of these opportunities' lines (for those taking their amount from them)."""
		if not names:
			return
		line = frappe.qb.DocType(LINE_DOCTYPE)
		rows = (
			frappe.qb.from_(line)
			.select(line.parent, Sum(line.amount))
			.where((line.parenttype == DOCTYPE) & (line.parentfield == "items") & line.parent.isin(names))
			.groupby(line.parent)
			.run()
		)
		self.line_totals.update({name: flt(total) for name, total in rows})


_SAVE_CONTEXT = OpportunityContext()


def validate_opportunity(doc, context: OpportunityContext | None = None, before=None):
	"""Check and derive an opportunity's own fields, as every save does: assignee, probability, stage
	(status, probability, closed on, lost reason), forecast category, picklist values, lines and amount,
	currency and forecast, and the fields only Convert to Project sets. Raises a ValidationError naming the problem.

	`before` is the record as stored (None for a new one); for a Document it defaults to the values
	before this save."""
	context = context or _SAVE_CONTEXT
	is_document = isinstance(doc, Document)
	if is_document:
		# what a caller sent, refused when no field can hold it (an import row's cells were parsed by
		# the importer's own readers, row by row)
		check_values(doc)
	if before is None and is_document:
		before = doc.get_doc_before_save()
	if not doc.assigned_to:
		doc.assigned_to = doc.owner or frappe.session.user
	if not 0 <= flt(doc.probability) <= 100:
		frappe.throw(
			_("Probability must be between 0 and 100."), exc=ProbabilityError, title=_("Invalid Probability")
		)
	apply_stage(doc, before, context.stage(doc.sales_stage), require_lost_reason=context.require_lost_reason)
	apply_forecast_category(doc, before, context.stage(doc.sales_stage) or get_stage(doc.sales_stage))
	disabled = context.disabled_picklist_values  # None: looked up per value, through Frappe's cache
	meta = None if is_document or disabled is not None else frappe.get_meta(DOCTYPE)
	check_picklist_values(doc, before, meta=meta, disabled=disabled)
	if is_document:
		apply_opportunity_lines(doc, before)
	elif doc.get("amount_from_items"):
		# an import row carries no lines: a stored record taking its amount from its lines keeps their total
		doc.amount = context.line_totals.get(doc.get("name"), 0.0)
	compute_amounts(doc, context.amount_rules)
	protect_conversion_fields(doc, before)
	apply_stage_since(doc, before, context.now)  # the stage history's "in stage since"
	validate_snooze(doc, before)
