"""Which files a user may import: only those they may read, by Frappe's File permission (as its
/private/files download decides: the user may read one of the File records with that URL — their own
upload, a public file, or one attached to a record they may read).

Checked where the import's file is set (the Opportunity Import's validate, before Frappe attaches a copy
of it to the import) and before the file is read (prepare, start, the run)."""

import frappe
from frappe import _


def check_can_read(file_url: str, user: str | None = None) -> None:
	"""Refuse, with a PermissionError, a file `user` may not read. A URL no File record has is left to
	the reader, which says the file was not found."""
	user = user or frappe.session.user
	names = frappe.get_all("File", filters={"file_url": file_url}, pluck="name", order_by="creation asc")
	for name in names:
		if frappe.has_permission("File", "read", doc=frappe.get_doc("File", name), user=user):
			return
	if names:
		frappe.throw(
			_("You may not read the file {0}, so you can't import it.").format(file_url),
			exc=frappe.PermissionError,
			title=_("Not permitted"),
		)
