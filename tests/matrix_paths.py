"""The paths of the permission matrix (test_permission_matrix.py): each asks the web server, as one user,
for the opportunity under test (or what follows it) and answers True when the user got it (saw it, or the
call succeeded). `ctx` is the matrix's `world`: base URL, sessions per user, the records' names."""

import json
import os

import frappe
import requests


def _get(ctx, user, path, **params):
	return ctx.sessions[user].get(f"{ctx.base}{path}", params=params, timeout=120)


def _post(ctx, user, path, **data):
	return ctx.sessions[user].post(f"{ctx.base}{path}", json=data, timeout=120)


def _message(response):
	return response.json().get("message") if response.status_code == 200 else None


def _by_name(ctx):
	return json.dumps([["Opportunity", "name", "=", ctx.opportunity]])


def path_list(ctx, user, mode):
	r = _get(ctx, user, "/api/resource/Opportunity", filters=_by_name(ctx))
	return r.status_code == 200 and ctx.opportunity in [row["name"] for row in r.json()["data"]]


def path_form(ctx, user, mode):
	r = _get(
		ctx, user, "/api/method/frappe.desk.form.load.getdoc", doctype="Opportunity", name=ctx.opportunity
	)
	return r.status_code == 200 and r.json()["docs"][0]["name"] == ctx.opportunity


def path_rest_document(ctx, user, mode):
	return _get(ctx, user, f"/api/resource/Opportunity/{ctx.opportunity}").status_code == 200


def _report_view(ctx, user, **extra):
	r = _post(
		ctx,
		user,
		"/api/method/frappe.desk.reportview.get",
		doctype="Opportunity",
		fields=["`tabOpportunity`.`name`", "`tabOpportunity`.`opportunity_name`"],
		filters=[["Opportunity", "name", "=", ctx.opportunity]],
		**extra,
	)
	message = _message(r)
	return bool(message) and ctx.opportunity in [row[0] for row in message["values"]]


def path_report_view(ctx, user, mode):
	return _report_view(ctx, user, view="Report")


def path_kanban(ctx, user, mode):
	return _report_view(ctx, user, view="Kanban", with_comment_count=1)


def path_kanban_move(ctx, user, mode):
	"""Drop the card in its own column: Frappe saves the opportunity's stage (its write permission)."""
	from opportunity_suite.services.kanban import BOARD_NAME

	r = _post(
		ctx,
		user,
		"/api/method/frappe.desk.doctype.kanban_board.kanban_board.update_order_for_single_card",
		board_name=BOARD_NAME,
		docname=ctx.opportunity,
		from_colname="Prospecting",
		to_colname="Prospecting",
		old_index=0,
		new_index=0,
	)
	return r.status_code == 200


def path_count(ctx, user, mode):
	r = _get(ctx, user, "/api/method/frappe.client.get_count", doctype="Opportunity", filters=_by_name(ctx))
	return _message(r) == 1


def path_get_value(ctx, user, mode):
	r = _get(
		ctx,
		user,
		"/api/method/frappe.client.get_value",
		doctype="Opportunity",
		fieldname="amount",
		filters=json.dumps({"name": ctx.opportunity}),
	)
	return (_message(r) or {}).get("amount") == 1234


def path_sidebar_counts(ctx, user, mode):
	r = _get(
		ctx,
		user,
		"/api/method/frappe.desk.listview.get_group_by_count",
		doctype="Opportunity",
		current_filters=_by_name(ctx),
		field="owner",
	)
	return any(row.get("count") for row in _message(r) or [])


def path_assignee_counts(ctx, user, mode):
	"""The list sidebar's Assigned To counts."""
	r = _get(
		ctx,
		user,
		"/api/method/frappe.desk.listview.get_group_by_count",
		doctype="Opportunity",
		current_filters=_by_name(ctx),
		field="assigned_to",
	)
	return any(row.get("name") == ctx.users["owner"] and row.get("count") for row in _message(r) or [])


def path_query_report(ctx, user, mode):
	# the month of the opportunity's expected close (test_permission_matrix.CLOSE_DATE), its assignee
	filters = {"from_date": "2031-07-01", "to_date": "2031-07-31", "assigned_to": ctx.users["owner"]}
	r = _get(
		ctx,
		user,
		"/api/method/frappe.desk.query_report.run",
		report_name="Opportunity Forecast",
		filters=json.dumps(filters),
	)
	message = _message(r)
	return (
		bool(message)
		and sum(row.get("opportunities") or 0 for row in message["result"] if isinstance(row, dict)) == 1
	)


def path_number_card(ctx, user, mode):
	card = {"document_type": "Opportunity", "function": "Sum", "aggregate_function_based_on": "amount"}
	r = _post(
		ctx,
		user,
		"/api/method/frappe.desk.doctype.number_card.number_card.get_result",
		doc=json.dumps(card),
		filters=_by_name(ctx),
	)
	return _message(r) == 1234


def path_link_search(ctx, user, mode):
	r = _get(ctx, user, "/api/method/frappe.desk.search.search_link", doctype="Opportunity", txt=ctx.token)
	return ctx.opportunity in [row["value"] for row in _message(r) or []]


def path_global_search(ctx, user, mode):
	r = _get(ctx, user, "/api/method/frappe.utils.global_search.search", text=ctx.token)
	return ctx.opportunity in [row["name"] for row in _message(r) or []]


def path_export(ctx, user, mode):
	r = _post(
		ctx,
		user,
		"/api/method/frappe.desk.reportview.export_query",
		doctype="Opportunity",
		file_format_type="CSV",
		fields=["`tabOpportunity`.`name`", "`tabOpportunity`.`opportunity_name`"],
		filters=[["Opportunity", "name", "=", ctx.opportunity]],
	)
	return r.status_code == 200 and ctx.token in r.text


def path_docinfo(ctx, user, mode):
	"""The form's timeline: comments, versions, attachments."""
	r = _get(
		ctx,
		user,
		"/api/method/frappe.desk.form.load.get_docinfo",
		doctype="Opportunity",
		name=ctx.opportunity,
	)
	return r.status_code == 200


def path_print(ctx, user, mode):
	r = _get(
		ctx,
		user,
		"/api/method/frappe.www.printview.get_html_and_style",
		doc="Opportunity",
		name=ctx.opportunity,
	)
	return r.status_code == 200 and ctx.token in r.text


def path_attachment(ctx, user, mode):
	"""The opportunity's private file, downloaded."""
	r = ctx.sessions[user].get(f"{ctx.base}{ctx.file_url}", timeout=120)
	return r.status_code == 200 and r.content == ctx.file_content


def path_write(ctx, user, mode):
	r = ctx.sessions[user].put(
		f"{ctx.base}/api/resource/Opportunity/{ctx.opportunity}",
		json={"next_step": f"call {user}"},
		timeout=120,
	)
	return r.status_code == 200


def path_bulk_comment(ctx, user, mode):
	r = _post(
		ctx,
		user,
		"/api/method/opportunity_suite.api.bulk.add_comment",
		names=[ctx.opportunity],
		comment=f"matrix {user} {mode}",
	)
	return (_message(r) or {}).get("added") == 1


def path_related_counts(ctx, user, mode):
	r = _get(
		ctx, user, "/api/method/opportunity_suite.api.related.get_related_counts", opportunity=ctx.opportunity
	)
	return r.status_code == 200


def path_make_quote(ctx, user, mode):
	r = _post(
		ctx, user, "/api/method/opportunity_suite.api.sales_documents.make_quote", source_name=ctx.opportunity
	)
	return (_message(r) or {}).get("opportunity") == ctx.opportunity


def path_line_items(ctx, user, mode):
	"""The opportunity's product lines listed on their own (REST on the child table, `parent=`)."""
	r = _get(
		ctx,
		user,
		"/api/resource/Line Item",
		parent="Opportunity",
		fields=json.dumps(["parent", "rate"]),
		filters=json.dumps([["Line Item", "parent", "=", ctx.opportunity]]),
	)
	return r.status_code == 200 and ctx.opportunity in [row["parent"] for row in r.json()["data"]]


def path_quote_list(ctx, user, mode):
	r = _get(ctx, user, "/api/resource/Quote", filters=json.dumps([["Quote", "name", "=", ctx.quote]]))
	return r.status_code == 200 and ctx.quote in [row["name"] for row in r.json()["data"]]


def path_quote_document(ctx, user, mode):
	return _get(ctx, user, f"/api/resource/Quote/{ctx.quote}").status_code == 200


def path_sales_order(ctx, user, mode):
	return _get(ctx, user, f"/api/resource/Sales Order/{ctx.sales_order}").status_code == 200


def path_convert(ctx, user, mode):
	opportunity = ctx.fresh[mode][user].opportunity
	r = _post(
		ctx, user, "/api/method/opportunity_suite.api.conversion.convert_to_project", opportunity=opportunity
	)
	return r.status_code == 200


def path_lead_conversion(ctx, user, mode):
	r = _post(
		ctx, user, "/api/method/opportunity_suite.api.lead.convert_lead", lead=ctx.fresh[mode][user].lead
	)
	opportunity = _message(r)
	return (
		bool(opportunity) and _get(ctx, user, f"/api/resource/Opportunity/{opportunity}").status_code == 200
	)


def path_import(ctx, user, mode):
	r = _post(
		ctx, user, "/api/method/opportunity_suite.api.importing.prepare_import", import_name=ctx.importing
	)
	return r.status_code == 200


def path_alert_recipient(ctx, user, mode):
	"""Administrator saves the opportunity over REST: the rule notifies each listed user who may read it."""
	if mode not in ctx.alerts:
		frappe.db.delete(
			"Notification Log", {"document_type": "Opportunity", "document_name": ctx.opportunity}
		)
		frappe.db.commit()
		admin = requests.Session()
		admin.post(
			f"{ctx.base}/api/method/login",
			json={"usr": "Administrator", "pwd": os.environ.get("OS_ADMIN_PASSWORD", "admin")},
		)
		r = admin.put(
			f"{ctx.base}/api/resource/Opportunity/{ctx.opportunity}",
			json={"description": f"alert {mode}"},
			timeout=120,
		)
		assert r.status_code == 200, r.text
		frappe.db.rollback()
		logs = frappe.get_all(
			"Notification Log",
			{
				"document_type": "Opportunity",
				"document_name": ctx.opportunity,
				"subject": ("like", f"%{ctx.opportunity}%"),
			},
			pluck="for_user",
		)
		frappe.db.delete(
			"Notification Log", {"document_type": "Opportunity", "document_name": ctx.opportunity}
		)
		frappe.db.commit()
		ctx.alerts[mode] = set(logs)
	return ctx.users.get(user, "Guest") in ctx.alerts[mode]
