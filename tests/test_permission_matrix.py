"""The permission matrix: every path to an opportunity (and to what follows it) × the kinds of user × the
two visibilities of Opportunity Settings, against the table below, allowed AND denied, each through the
real HTTP endpoint of a web server for the test site (one logged-in requests.Session per user).

The opportunity under test is owned by and assigned to `owner`; `owner` reports to a team lead who reports
to `manager` (a manager of a manager); `other` is a Sales User outside that line. The table is copied in
the README ("Record visibility")."""

from concurrent.futures import ThreadPoolExecutor

import frappe
import pytest
import requests
from frappe.utils.global_search import sync_global_search
from frappe.utils.password import update_password

from tests import matrix_paths
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


# ---------------------------------------------------------------- the matrix


# paths that save one shared record (the board, the opportunity, the import) run one user at a time; the
# others ask for all users at once (the web server is threaded), which keeps the module within minutes
SERIAL = frozenset({"kanban_move", "write", "import", "alert_recipient"})
POOL = ThreadPoolExecutor(max_workers=len(USERS))


@pytest.mark.parametrize("path", PATHS)
def test_matrix(world, mode, path):
	check = getattr(matrix_paths, f"path_{path}")
	if path in SERIAL:
		got = {user: check(world, user, mode) for user in USERS}
	else:
		got = dict(zip(USERS, POOL.map(lambda user: check(world, user, mode), USERS), strict=True))
	wrong = {user: got[user] for user in USERS if got[user] != EXPECTED[(path, user, mode)]}
	assert not wrong, f"{path} with visibility {mode}: allowed = {got}"


def test_the_matrix_covers_every_path_and_user():
	assert len(USERS) == 7 and all(hasattr(matrix_paths, f"path_{path}") for path in PATHS)
	# something is denied and something allowed in each mode: the table is not all one answer
	for mode in MODES:
		answers = {EXPECTED[(p, u, mode)] for p in PATHS for u in USERS}
		assert answers == {True, False}
