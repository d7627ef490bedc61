"""The permission matrix: every path to an opportunity (and to what follows it) × the kinds of user × the
two visibilities of Opportunity Settings, against the table below, allowed AND denied, each through the
real HTTP endpoint of a web server for the test site (one logged-in requests.Session per user).

The opportunity under test is owned by and assigned to `owner`; `owner` reports to a team lead who reports
to `manager` (a manager of a manager); `other` is a Sales User outside that line. The table is copied in
the README ("Record visibility")."""

import json
import os
from concurrent.futures import ThreadPoolExecutor

import frappe
import pytest
import requests
from frappe.utils.global_search import sync_global_search
from frappe.utils.password import update_password

from tests.conversion_fixtures import attach_file, make_quote, make_sales_order
from tests.factories import make_opportunity, make_user, unique
from tests.import_fixtures import csv_bytes, make_import
from tests.records_fixtures import delete_committed, delete_committed_users, line, make_lead, make_product

PASSWORD = "Matrix-Visibility-42!"
MODES = ("everyone", "private")
SETTING = {"everyone": "Everyone", "private": "Owner, Assignees and Their Managers"}
CLOSE_DATE = "2031-07-15"  # the forecast report looks at this month only

# Cells are everyone/private: y = allowed (sees it, or the call succeeds), n = denied.
MATRIX = """
path              guest  website  owner  other  manager  sales_manager  system_manager
list              n/n    n/n      y/y    y/n    y/y      y/y            y/y
form              n/n    n/n      y/y    y/n    y/y      y/y            y/y
rest_document     n/n    n/n      y/y    y/n    y/y      y/y            y/y
report_view       n/n    n/n      y/y    y/n    y/y      y/y            y/y
count             n/n    n/n      y/y    y/n    y/y      y/y            y/y
get_value         n/n    n/n      y/y    y/n    y/y      y/y            y/y
sidebar_counts    n/n    n/n      y/y    y/n    y/y      y/y            y/y
assignee_counts   n/n    n/n      y/y    y/n    y/y      y/y            y/y
query_report      n/n    n/n      y/y    y/n    y/y      y/y            y/y
number_card       n/n    n/n      y/y    y/n    y/y      y/y            y/y
kanban            n/n    n/n      y/y    y/n    y/y      y/y            y/y
kanban_move       n/n    n/n      y/y    y/n    y/y      y/y            y/y
link_search       n/n    n/n      y/y    y/n    y/y      y/y            y/y
global_search     n/n    n/n      y/y    y/n    y/y      y/y            y/y
export            n/n    n/n      y/y    y/n    y/y      y/y            y/y
docinfo           n/n    n/n      y/y    y/n    y/y      y/y            y/y
print             n/n    n/n      y/y    y/n    y/y      y/y            y/y
attachment        n/n    n/n      y/y    y/n    y/y      y/y            y/y
write             n/n    n/n      y/y    y/n    y/y      y/y            y/y
bulk_comment      n/n    n/n      y/y    y/n    y/y      y/y            y/y
related_counts    n/n    n/n      y/y    y/n    y/y      y/y            y/y
make_quote        n/n    n/n      y/y    y/n    y/y      y/y            y/y
line_items        n/n    n/n      y/y    y/n    y/y      y/y            y/y
quote_list        n/n    n/n      y/y    y/n    y/y      y/y            y/y
quote_document    n/n    n/n      y/y    y/n    y/y      y/y            y/y
sales_order       n/n    n/n      y/y    y/n    y/y      y/y            y/y
convert           n/n    n/n      y/y    y/n    y/y      y/y            y/y
alert_recipient   n/n    n/n      y/y    y/n    y/y      y/y            y/y
lead_conversion   n/n    n/n      y/y    y/y    y/y      y/y            y/y
import            n/n    n/n      n/n    n/n    n/n      y/y            y/y
"""


def parse_matrix(text: str) -> tuple[list[str], dict[tuple[str, str, str], bool]]:
	lines = [line.split() for line in text.strip().splitlines()]
	users = lines[0][1:]
	expected = {}
	for path, *cells in lines[1:]:
		for user, cell in zip(users, cells, strict=True):
			for mode, mark in zip(MODES, cell.split("/"), strict=True):
				expected[(path, user, mode)] = mark == "y"
	return users, expected


USERS, EXPECTED = parse_matrix(MATRIX)
PATHS = list(dict.fromkeys(path for path, _u, _m in EXPECTED))


# ---------------------------------------------------------------- the site's data and the sessions


def _commit_as_admin():
	frappe.db.commit()
	frappe.set_user("Administrator")


@pytest.fixture(scope="module")
def world(web_server):
	"""Users with passwords, their reporting line, the opportunity with a quote and a sales order, an alert
	rule notifying every user on its save, an import and a logged-in session per user. All committed,
	all removed afterwards."""
	frappe.db.rollback()
	frappe.set_user("Administrator")
	roles = {
		"website": (),
		"owner": ("Sales User",),
		"team_lead": ("Sales User",),
		"other": ("Sales User",),
		"manager": ("Sales User",),
		"sales_manager": ("Sales Manager",),
		"system_manager": ("System Manager",),
	}
	users = {key: make_user(*r) for key, r in roles.items()}
	for user in users.values():
		update_password(user, PASSWORD)
	frappe.db.set_value("User", users["owner"], "reports_to", users["team_lead"])
	frappe.db.set_value("User", users["team_lead"], "reports_to", users["manager"])
	token = frappe.generate_hash(length=10)
	product = make_product()
	frappe.set_user(users["owner"])
	opportunity = make_opportunity(
		opportunity_name=f"Matrix {token}",
		amount=1234,
		assigned_to=users["owner"],
		expected_close_date=CLOSE_DATE,
		amount_from_items=0,
		items=[line(product, qty=1, rate=5)],
	)
	frappe.set_user("Administrator")
	quote = make_quote(opportunity.name)
	sales_order = make_sales_order(opportunity.name)
	rule = frappe.get_doc(
		{
			"doctype": "Alert Rule",
			"rule_name": unique("Matrix rule"),
			"document_type": "Opportunity",
			"enabled": 1,
			"trigger": "Every Save",
			"condition_match": "All",
			"conditions": [
				{"fieldname": "opportunity_name", "operator": "Equals", "value": opportunity.opportunity_name}
			],
			"actions": [
				{
					"action_type": "Notification",
					"recipient_users": ",".join(users[k] for k in USERS if k in users),
					"subject": "{{ doc.name }}",
				}
			],
		}
	).insert()
	importing = make_import(
		csv_bytes([["Opportunity Name", "Next Step"], [opportunity.opportunity_name, "x"]])
	)
	file_content = f"file of {token}".encode()
	attachment = attach_file(opportunity.name, is_private=1, content=file_content)
	sync_global_search()
	_commit_as_admin()
	sessions = {"guest": requests.Session()}
	for key in USERS:
		if key in users:
			session = requests.Session()
			response = session.post(
				f"{web_server}/api/method/login", json={"usr": users[key], "pwd": PASSWORD}
			)
			assert response.ok, (key, response.text)
			sessions[key] = session
	ctx = frappe._dict(
		base=web_server,
		users=users,
		sessions=sessions,
		token=token,
		opportunity=opportunity.name,
		title=opportunity.opportunity_name,
		quote=quote.name,
		sales_order=sales_order.name,
		rule=rule.name,
		importing=importing.name,
		product=product.name,
		file_url=attachment.file_url,
		file_content=file_content,
		made={
			"Opportunity": [opportunity.name],
			"Lead": [],
			"Project": [],
			"Contact": [],
			"Organization": [],
		},
		fresh={},
		alerts={},
		gaps={},
	)
	try:
		yield ctx
	finally:
		_remove(ctx)


def _remove(ctx):
	frappe.db.rollback()
	frappe.set_user("Administrator")
	settings = frappe.get_single("Opportunity Settings")
	settings.visibility = "Everyone"
	settings.save()
	frappe.delete_doc("Alert Rule", ctx.rule, force=True, ignore_permissions=True)
	frappe.db.delete("Alert Log", {"alert_rule": ctx.rule})
	opportunities = ctx.made["Opportunity"] + frappe.get_all(
		"Opportunity", {"lead": ("in", ctx.made["Lead"] or [""])}, pluck="name"
	)
	projects = frappe.get_all("Project", {"opportunity": ("in", opportunities)}, pluck="name")
	frappe.db.delete(
		"Notification Log", {"document_type": "Opportunity", "document_name": ("in", opportunities)}
	)
	frappe.db.delete(
		"ToDo",
		{
			"reference_type": ("in", ("Opportunity", "Project")),
			"reference_name": ("in", opportunities + projects + [""]),
		},
	)
	delete_committed(
		"Sales Order", frappe.get_all("Sales Order", {"opportunity": ("in", opportunities)}, pluck="name")
	)
	delete_committed("Quote", frappe.get_all("Quote", {"opportunity": ("in", opportunities)}, pluck="name"))
	delete_committed("Project", projects)
	contacts = frappe.get_all("Opportunity", {"name": ("in", opportunities)}, pluck="contact")
	delete_committed("Opportunity", opportunities)
	delete_committed("Lead", ctx.made["Lead"])
	delete_committed("Product", [ctx.product])
	delete_committed("Contact", [c for c in contacts if c])
	for file in frappe.get_all("File", {"attached_to_name": ("in", opportunities)}, pluck="name"):
		frappe.delete_doc("File", file, force=True, ignore_permissions=True)
	frappe.db.delete("Opportunity Import Column", {"parent": ctx.importing})
	for file in frappe.get_all("File", {"attached_to_name": ctx.importing}, pluck="name"):
		frappe.delete_doc("File", file, force=True, ignore_permissions=True)
	frappe.db.delete("Opportunity Import", {"name": ctx.importing})
	frappe.db.delete("DocShare", {"share_doctype": "Opportunity", "share_name": ("in", opportunities)})
	frappe.db.commit()
	delete_committed_users({k: v for k, v in ctx.users.items()})


@pytest.fixture(scope="module", params=MODES)
def mode(request, world):
	"""The visibility, set once per mode (the tests are grouped by it), with fresh records for the paths
	that consume one: an opportunity to convert and a lead to convert, per user."""
	frappe.db.rollback()
	frappe.set_user("Administrator")
	settings = frappe.get_single("Opportunity Settings")
	settings.visibility = SETTING[request.param]
	settings.save()
	fresh = {}
	for key in USERS:
		frappe.set_user(world.users["owner"])
		to_convert = make_opportunity(
			assigned_to=world.users["owner"], amount=1, expected_close_date="2032-01-01"
		)
		frappe.set_user("Administrator")
		lead = make_lead(first_name=f"Matrix {world.token}", last_name=key)
		world.made["Opportunity"].append(to_convert.name)
		world.made["Lead"].append(lead.name)
		fresh[key] = frappe._dict(opportunity=to_convert.name, lead=lead.name)
	world.fresh[request.param] = fresh
	_commit_as_admin()
	return request.param


# ---------------------------------------------------------------- the paths


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
	filters = {"from_date": "2031-07-01", "to_date": "2031-07-31", "assigned_to": ctx.users["owner"]}
	r = _get(
		ctx,
		user,
		"/api/method/frappe.desk.query_report.run",
		report_name="Opportunity Forecast",
		filters=json.dumps(filters),
	)
	if r.status_code == 403 and "Currency" in r.text:
		ctx.gaps[("query_report", user, mode)] = (
			"issue 12 item 11 (branch perms): No permission to read Currency"
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


# ---------------------------------------------------------------- the matrix


# paths that save one shared record (the board, the opportunity, the import) run one user at a time; the
# others ask for all users at once (the web server is threaded), which keeps the module within minutes
SERIAL = frozenset({"kanban_move", "write", "import", "alert_recipient"})
POOL = ThreadPoolExecutor(max_workers=len(USERS))


@pytest.mark.parametrize("path", PATHS)
def test_matrix(world, mode, path):
	check = globals()[f"path_{path}"]
	if path in SERIAL:
		got = {user: check(world, user, mode) for user in USERS}
	else:
		got = dict(zip(USERS, POOL.map(lambda user: check(world, user, mode), USERS), strict=True))
	wrong = {user: got[user] for user in USERS if got[user] != EXPECTED[(path, user, mode)]}
	gaps = {world.gaps[(path, user, mode)] for user in wrong if (path, user, mode) in world.gaps}
	if wrong and len(gaps) == len(wrong) == 1:  # a hole another change fixes; passes once it is merged
		pytest.xfail(gaps.pop())
	assert not wrong, f"{path} with visibility {mode}: allowed = {got}"


def test_the_matrix_covers_every_path_and_user():
	assert len(USERS) == 7 and all(f"path_{path}" in globals() for path in PATHS)
	# something is denied and something allowed in each mode: the table is not all one answer
	for mode in MODES:
		answers = {EXPECTED[(p, u, mode)] for p in PATHS for u in USERS}
		assert answers == {True, False}
