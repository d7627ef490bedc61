"""Record visibility: who sees which opportunity (and the quotes and sales orders that follow it).

Opportunity Settings' *Visibility* is `Everyone` (every Sales User reads every opportunity, as before) or
`Owner, Assignees and Their Managers`. With the second, a user who is neither Sales Manager nor System
Manager sees an opportunity when they or someone in their team owns it, is its Assigned To, or is one of
its Frappe assignees (`_assign`), or when it was shared with them. A user's team is the user plus everyone
who reports to them, directly or through a chain (User's `reports_to`, a Custom Field made at install: there
is no HR Employee here; a cycle in the chain is harmless, each user is visited once).

A Sales Quota follows its user: with the second, a user who doesn't see everything reads only the quotas of
their team (the list, REST, the form, the forecast report's quota and attainment columns).

Quotes and Sales Orders have no rules of their own: one linked to an opportunity is seen by whoever sees
that opportunity (one with no opportunity by everyone with the role).

Enforced through Frappe's two hooks (hooks.py), so that every path that asks Frappe applies it: the
`permission_query_conditions` (get_list: list, report view, REST lists, counts, number cards, Kanban, link
search, exports, reports built on get_list or Frappe's match conditions) and `has_permission` (form, REST
document, print, has_permission(doc, user=...) in the app's services). The visibility setting and each
user's team are read once per request (or job)."""

import json

import frappe

SETTINGS = "Opportunity Settings"
OPPORTUNITY = "Opportunity"
QUOTA = "Sales Quota"  # a user's target: read by its user, their managers and Sales Managers
FOLLOWERS = ("Quote", "Sales Order")  # DocTypes whose rows follow their `opportunity`
EVERYONE = "Everyone"
PRIVATE = "Owner, Assignees and Their Managers"
SEES_ALL_ROLES = frozenset({"Sales Manager", "System Manager"})
REPORTS_TO = "reports_to"


class ReportingCycleError(frappe.ValidationError):
	pass


# ---------------------------------------------------------------- per request memory


def _cache() -> dict:
	cache = getattr(frappe.local, "opportunity_suite_visibility", None)
	if cache is None:
		cache = frappe.local.opportunity_suite_visibility = {"teams": {}}
	return cache


def clear_cache(*args, **kwargs):
	"""Forget the setting and the teams (Opportunity Settings and User saves call this)."""
	frappe.local.opportunity_suite_visibility = None


def is_private() -> bool:
	cache = _cache()
	if "private" not in cache:
		value = frappe.db.get_single_value(SETTINGS, "visibility", cache=False) if _has_setting() else None
		cache["private"] = value == PRIVATE
	return cache["private"]


def _has_setting() -> bool:
	return frappe.get_meta(SETTINGS).has_field("visibility")


def sees_everything(user: str) -> bool:
	if not is_private() or user == "Administrator":
		return True
	return bool(SEES_ALL_ROLES & set(frappe.get_roles(user)))


def team_of(user: str) -> list[str]:
	"""`user` and everyone who reports to them, directly or through others (each user once: cycles stop)."""
	teams = _cache()["teams"]
	if user not in teams:
		reports = {}
		if frappe.get_meta("User").has_field(REPORTS_TO):
			user_table = frappe.qb.DocType("User")
			rows = (
				frappe.qb.from_(user_table)
				.select(user_table.name, user_table[REPORTS_TO])
				.where(user_table[REPORTS_TO].isnotnull() & (user_table[REPORTS_TO] != ""))
				.run()
			)
			for name, manager in rows:
				reports.setdefault(manager, []).append(name)
		team, queue = [user], [user]
		seen = {user}
		while queue:
			for member in reports.get(queue.pop(), []):
				if member not in seen:
					seen.add(member)
					team.append(member)
					queue.append(member)
		teams[user] = team
	return teams[user]


# ---------------------------------------------------------------- conditions (get_list)


def _escape(value: str) -> str:
	"""Frappe's permission_query_conditions hook takes SQL text: every value in it goes through this."""
	return frappe.db.escape(value, percent=False)


def opportunity_condition(user: str, table: str = "`tabOpportunity`") -> str:
	"""SQL condition on `table` (Opportunity) selecting the rows `user` may see; "" for all of them."""
	if sees_everything(user):
		return ""
	return (
		"(" + team_condition(user, table)[1:-1] + " or " + _shared_condition(OPPORTUNITY, user, table) + ")"
	)


def team_condition(user: str, table: str = "`tabOpportunity`") -> str:
	"""The part of `opportunity_condition` that reads only the row's own owner, Assigned To and `_assign`
	(not its shares): the pre-aggregated totals (services/totals/) apply it to their rows."""
	team = team_of(user)
	members = ", ".join(_escape(member) for member in team)
	parts = [f"{table}.`owner` in ({members})", f"{table}.`assigned_to` in ({members})"]
	# `_assign` is Frappe's JSON list of assignees: look for each quoted name (as written raw, or escaped
	# by json.dumps for a name beyond ASCII)
	parts += [
		f"locate({_escape(needle)}, ifnull({table}.`_assign`, '')) > 0"
		for member in team
		for needle in dict.fromkeys((f'"{member}"', json.dumps(member)))
	]
	return "(" + " or ".join(parts) + ")"


def shared_condition(doctype: str, user: str, table: str) -> str:
	return _shared_condition(doctype, user, table)


def _shared_condition(doctype: str, user: str, table: str) -> str:
	return (
		f"{table}.`name` in (select `share_name` from `tabDocShare` where `share_doctype` = {_escape(doctype)}"
		f" and `read` = 1 and (`user` = {_escape(user)} or `everyone` = 1))"
	)


def follower_condition(user: str, doctype: str) -> str:
	"""SQL condition on a Quote / Sales Order: no opportunity, or one `user` may see (or shared)."""
	if sees_everything(user):
		return ""
	table = f"`tab{doctype}`"
	seen = opportunity_condition(user, table="`visible_opportunity`")
	return (
		f"(ifnull({table}.`opportunity`, '') = '' or {table}.`opportunity` in (select "
		f"`visible_opportunity`.`name` from `tabOpportunity` `visible_opportunity` where {seen})"
		f" or {_shared_condition(doctype, user, table)})"
	)


def child_condition(user: str, doctype: str) -> str:
	"""SQL condition on a child table's rows (a Line Item, an Opportunity Contact): those of a parent `user`
	may see. Frappe's get_list on a child DocType (REST `?parent=Opportunity`) checks only the parent's
	DocType, so without this the lines of every private deal would be listed."""
	if sees_everything(user):
		return ""
	table = f"`tab{doctype}`"
	parents = [
		p
		for p in (OPPORTUNITY, *FOLLOWERS)
		if any(df.options == doctype for df in frappe.get_meta(p).get_table_fields())
	]
	parts = [f"{table}.`parenttype` not in ({', '.join(_escape(p) for p in parents)})"] if parents else []
	for parent in parents:
		if parent == OPPORTUNITY:
			seen = (
				f"select `vo`.`name` from `tabOpportunity` `vo` where {opportunity_condition(user, '`vo`')}"
			)
		else:
			seen = f"select `tab{parent}`.`name` from `tab{parent}` where {follower_condition(user, parent)}"
		parts.append(f"({table}.`parenttype` = {_escape(parent)} and {table}.`parent` in ({seen}))")
	return "(" + " or ".join(parts) + ")" if parts else ""


def opportunity_query_conditions(user: str | None = None, doctype: str | None = None) -> str:
	return opportunity_condition(user or frappe.session.user)


def follower_query_conditions(user: str | None = None, doctype: str | None = None) -> str:
	return follower_condition(user or frappe.session.user, doctype)


def child_query_conditions(user: str | None = None, doctype: str | None = None) -> str:
	return child_condition(user or frappe.session.user, doctype)


def quota_condition(user: str) -> str:
	"""SQL condition on Sales Quota: with private visibility, a user who doesn't see everything reads only
	the quotas of their team (themselves and who reports to them); "" for all of them."""
	if sees_everything(user):
		return ""
	members = ", ".join(_escape(member) for member in team_of(user))
	return f"`tab{QUOTA}`.`user` in ({members})"


def quota_query_conditions(user: str | None = None, doctype: str | None = None) -> str:
	return quota_condition(user or frappe.session.user)


# ---------------------------------------------------------------- one record (has_permission)


# the share right that opens a private deal for each kind of access: a read share lets its user read,
# print, e-mail or export the deal, never write it; a delete (or what no share can grant) needs the deal
# to be theirs or their team's
SHARE_RIGHTS = {
	"read": "read",
	"select": "read",
	"print": "read",
	"email": "read",
	"export": "read",
	"report": "read",
	"write": "write",
	"share": "share",
	"submit": "submit",
	"cancel": "submit",
	"amend": "submit",
}


def can_see_opportunity(name: str | None, user: str, ptype: str | None = None) -> bool:
	"""Whether `user` may reach the stored opportunity `name` for `ptype` (read when not given): its owner,
	assignees and their managers always; anyone else through a share that grants that right."""
	if not name or sees_everything(user):
		return True
	row = frappe.db.get_value(OPPORTUNITY, name, ["owner", "assigned_to", "_assign"], as_dict=True)
	if row is None:
		return True  # not saved yet (or gone): nothing to hide
	team = set(team_of(user))
	assignees = set(frappe.parse_json(row._assign) or []) if row._assign else set()
	if row.owner in team or row.assigned_to in team or team & assignees:
		return True
	right = SHARE_RIGHTS.get(ptype or "read")
	if not right:
		return False
	return bool(
		frappe.share.get_shared(OPPORTUNITY, user, rights=[right], filters=[["share_name", "=", name]])
	)


def has_opportunity_permission(doc, ptype=None, user=None, debug=False):
	"""Deny what the visibility hides; None (Frappe's own rules decide) otherwise. The stored record
	counts, not the one being saved: nobody takes a deal they can't see by writing themselves into it
	(a record not saved yet hides nothing). A share is honoured by Frappe itself after a denial here."""
	user = user or frappe.session.user
	if ptype == "create" or sees_everything(user):
		return None
	return None if can_see_opportunity(doc.name, user, ptype) else False


def has_follower_permission(doc, ptype=None, user=None, debug=False):
	"""A quote or sales order: its opportunity (as stored, and as it is about to be saved) must be visible."""
	user = user or frappe.session.user
	if sees_everything(user):
		return None
	opportunities = {doc.get("opportunity")}
	if doc.name and ptype != "create":
		opportunities.add(frappe.db.get_value(doc.doctype, doc.name, "opportunity"))
	if all(can_see_opportunity(name, user) for name in opportunities if name):
		return None
	return False


def has_quota_permission(doc, ptype=None, user=None, debug=False):
	"""A Sales Quota: its user (as stored, and as about to be saved) must be in the reader's team."""
	user = user or frappe.session.user
	if sees_everything(user):
		return None
	users = {doc.get("user")}
	if doc.name and ptype != "create":
		users.add(frappe.db.get_value(QUOTA, doc.name, "user"))
	team = set(team_of(user))
	return None if all(u in team for u in users if u) else False


# ---------------------------------------------------------------- the reporting line


def reports_to_field() -> dict:
	"""The Custom Field on User (install makes it): System Managers set who reports to whom."""
	return {
		"fieldname": REPORTS_TO,
		"label": "Reports To",
		"fieldtype": "Link",
		"options": "User",
		"insert_after": "role_profile_name",
		"permlevel": 1,
		"description": "With private opportunity visibility, a manager sees the opportunities of everyone "
		"who reports to them, directly or not",
	}


def ensure_reports_to_field():
	from frappe.custom.doctype.custom_field.custom_field import create_custom_fields

	create_custom_fields({"User": [reports_to_field()]}, update=True)


def validate_reporting_line(doc, method=None):
	"""User validate: nobody reports to themselves, directly or through a chain."""
	manager = doc.get(REPORTS_TO)
	seen = {doc.name}
	while manager:
		if manager in seen:
			frappe.throw(
				frappe._("{0} can't report to {1}: that would make a reporting cycle.").format(
					doc.name, doc.get(REPORTS_TO)
				),
				exc=ReportingCycleError,
			)
		seen.add(manager)
		manager = frappe.db.get_value("User", manager, REPORTS_TO)
