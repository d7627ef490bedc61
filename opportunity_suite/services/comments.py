"""Bulk comments: one comment added to many opportunities, as the session's user."""

import frappe
from frappe import _
from frappe.utils import get_fullname, strip_html
from frappe.utils.html_utils import sanitize_html

DOCTYPE = "Opportunity"
MAX_RECORDS = 500


class TooManyRecordsError(frappe.ValidationError):
	pass


class EmptyCommentError(frappe.ValidationError):
	pass


def clean_comment(comment: str) -> str:
	"""The comment's HTML with scripts, event handlers and unknown tags neutralised; refuses an empty one."""
	html = sanitize_html((comment or "").strip(), always_sanitize=True)
	if not strip_html(html).strip() and "<img" not in html:
		frappe.throw(_("The comment is empty."), exc=EmptyCommentError)
	return html


def add_comment_to_many(names: list[str], comment: str) -> dict:
	"""Add `comment` to every opportunity in `names` the session's user may read.

	Returns {"added": n, "skipped": [{"name", "reason"}]}: records that don't exist or that the user may not
	read are skipped, not fatal. More than MAX_RECORDS names are refused as a whole."""
	names = list(dict.fromkeys(str(n) for n in (names or []) if n))
	if len(names) > MAX_RECORDS:
		frappe.throw(
			_("Add a comment to at most {0} records at once ({1} were selected).").format(
				MAX_RECORDS, len(names)
			),
			exc=TooManyRecordsError,
		)
	html = clean_comment(comment)
	user = frappe.session.user
	author = get_fullname(user)
	existing = set(frappe.get_all(DOCTYPE, filters={"name": ("in", names)}, pluck="name")) if names else set()
	added, skipped = 0, []
	for name in names:
		if name not in existing:
			skipped.append({"name": name, "reason": _("Not found")})
			continue
		if not frappe.has_permission(DOCTYPE, "read", doc=name, user=user):
			skipped.append({"name": name, "reason": _("No permission to read it")})
			continue
		frappe.get_doc(
			{
				"doctype": "Comment",
				"comment_type": "Comment",
				"reference_doctype": DOCTYPE,
				"reference_name": name,
				"comment_email": user,
				"comment_by": author,
				"content": html,
			}
		).insert(ignore_permissions=True)
		added += 1
	return {"added": added, "skipped": skipped}
