# ruff: noqa: F811 (the cleanup fixture is imported, then used as an argument)
"""Assigned To in a file: a user by login e-mail or login name (any case); a disabled user is refused;
a name that is no user fails its row naming it. Never imported unassigned or assigned to someone else."""

import csv
import io

import frappe

from tests.factories import unique
from tests.import_fixtures import (
	cleanup,  # noqa: F401 (fixture)
	created,
	csv_bytes,
	new_import,
	prepare,
	run,
)

HEADER = ["Opportunity Name", "Assigned To", "Sales Stage", "Expected Close Date"]


def _user(cleanup, username: str, enabled: int = 1) -> str:
	user = frappe.get_doc(
		{
			"doctype": "User",
			"email": f"{username}@opportunity-suite.test",
			"first_name": username,
			"username": username,
			"send_welcome_email": 0,
			"enabled": enabled,
			"roles": [{"role": "Sales User"}],
		}
	).insert(ignore_permissions=True)
	cleanup["User"].append(user.name)
	return user.name


def test_assigned_to_by_email_or_login_name_disabled_and_unknown_refused(cleanup):
	tag = unique("Usr")
	slug = frappe.generate_hash(length=8)
	active = _user(cleanup, f"act{slug}")
	disabled = _user(cleanup, f"off{slug}", enabled=0)
	frappe.db.commit()
	rows = [
		HEADER,
		[f"{tag} email", active.upper(), "Prospecting", "2026-12-31"],
		[f"{tag} login", f"ACT{slug}", "Prospecting", "2026-12-31"],
		[f"{tag} disabled", f"off{slug}", "Prospecting", "2026-12-31"],
		[f"{tag} disabled email", disabled, "Prospecting", "2026-12-31"],
		[f"{tag} unknown", "Marketing Group", "Prospecting", "2026-12-31"],
	]
	doc = new_import(cleanup, csv_bytes(rows))
	prepare(doc)
	run(doc)
	assert (doc.created_count, doc.failed_count) == (2, 3), doc.error
	made = {
		r.opportunity_name: r.assigned_to
		for r in frappe.get_all(
			"Opportunity", {"name": ("in", created(doc))}, ["opportunity_name", "assigned_to"]
		)
	}
	assert made == {f"{tag} email": active, f"{tag} login": active}
	file = frappe.get_doc("File", {"file_url": doc.failed_rows_file})
	content = file.get_content()
	failed = list(csv.reader(io.StringIO(content.decode() if isinstance(content, bytes) else content)))
	reasons = {row[0]: row[-1] for row in failed[1:]}
	assert f"the user off{slug} is disabled" in reasons[f"{tag} disabled"]
	assert "disabled" in reasons[f"{tag} disabled email"]
	assert "Marketing Group is not a user here" in reasons[f"{tag} unknown"]
