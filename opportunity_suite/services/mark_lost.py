"""Many deals marked lost at once: the list's bulk edit of Sales Stage into a Lost stage asks, once, why
(public/js/lost_reason.js) and sends the stage, the Loss Reason and its detail here. Each deal is saved as a
desk save would (its validation, the session user's permissions, the stage history row, the app's and other
apps' hooks); a deal that can't be saved (not found, not writable, refused by validation) is reported with the
reason, in the user's language, and the others are saved."""

import frappe
from frappe import _
from frappe.utils import cstr, strip_html

DOCTYPE = "Opportunity"
MAX_RECORDS = 500  # as Frappe's own bulk edit
SAVEPOINT = "opportunity_mark_lost"


class TooManyRecordsError(frappe.ValidationError):
	pass


class NotALostStageError(frappe.ValidationError):
	pass


def mark_many_as_lost(
	names: list[str], sales_stage: str, loss_reason: str, lost_reason: str | None = None
) -> dict:
	"""Move each of `names` into the Lost stage `sales_stage` with `loss_reason` (a Lost Reason) and the
	detail `lost_reason`, each saved on its own (a savepoint: a failure undoes that deal only).

	Returns {"saved": [names], "failed": [{"name", "reason"}]}. More than MAX_RECORDS names, a stage that is
	no Lost stage or a reason that isn't an enabled Lost Reason are refused as a whole."""
	names = list(dict.fromkeys(cstr(n) for n in (names or []) if n))
	if len(names) > MAX_RECORDS:
		frappe.throw(
			_("Mark at most {0} opportunities as lost at once ({1} were selected).").format(
				MAX_RECORDS, len(names)
			),
			exc=TooManyRecordsError,
		)
	if frappe.db.get_value("Opportunity Stage", sales_stage, "stage_type") != "Lost":
		frappe.throw(_("{0} is not a Lost stage.").format(frappe.bold(sales_stage)), exc=NotALostStageError)
	if not loss_reason or not frappe.db.exists("Lost Reason", {"name": loss_reason, "disabled": 0}):
		frappe.throw(_("Choose a Loss Reason from the Lost Reason list."), exc=frappe.MandatoryError)
	values = {"sales_stage": sales_stage, "loss_reason": loss_reason, "lost_reason": lost_reason or None}
	existing = set(frappe.get_all(DOCTYPE, filters={"name": ("in", names)}, pluck="name")) if names else set()
	saved, failed = [], []
	for name in names:
		if name not in existing:
			failed.append({"name": name, "reason": _("Not found")})
		elif not frappe.has_permission(DOCTYPE, "write", doc=name):
			failed.append({"name": name, "reason": _("You may not change it")})
		else:
			reason = _save(name, values)
			if reason is None:
				saved.append(name)
			else:
				failed.append({"name": name, "reason": reason})
	return {"saved": saved, "failed": failed}


def _save(name: str, values: dict) -> str | None:
	"""Save one deal with `values`; None when saved, else why not (its change undone)."""
	messages = len(frappe.local.message_log)
	frappe.db.savepoint(SAVEPOINT)
	try:
		doc = frappe.get_doc(DOCTYPE, name)
		doc.update(values)
		doc.save()
	except (frappe.ValidationError, frappe.PermissionError) as error:
		frappe.db.rollback(save_point=SAVEPOINT)
		# the refusal is this row's reason, not a message of its own for the whole answer: the messages the
		# save showed (translated, in words: a missing field's label), else the error's own text
		shown = frappe.local.message_log[messages:]
		del frappe.local.message_log[messages:]
		texts = [strip_html(cstr(m.get("message") if isinstance(m, dict) else m)).strip() for m in shown]
		return "; ".join(t for t in texts if t) or strip_html(cstr(error)).strip() or _("Could not be saved")
	frappe.db.release_savepoint(SAVEPOINT)
	return None
