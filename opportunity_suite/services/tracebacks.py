"""Who sees a server error's traceback: only a System Manager.

Frappe puts the traceback into a failed request's answer when System Settings' "Show Full Error"
(`allow_error_traceback`, on by default) is on, and into its error page whenever the web server runs as
`bench start` runs it (DEV_SERVER), for any caller, Guest included. Both honour the request's
`disable_traceback` flag, which this before_request hook sets for everyone but a System Manager. (The
product site also turns the setting off: setup_site.product_run_mode.)"""

import frappe


def hide_from_non_system_managers():
	"""before_request (the session's user is known; a token or API key is not yet read, so such a
	caller counts as Guest here and gets no traceback)."""
	if "System Manager" not in frappe.get_roles():
		frappe.local.flags.disable_traceback = True
