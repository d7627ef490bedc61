"""The desk's apps screen (hooks.py `add_to_apps_screen`) offers the app to users who may read
opportunities, with its logo, and to nobody else."""

import os
from urllib.parse import urlparse

import frappe
from frappe.apps import get_apps

from tests.factories import make_user


def _offered() -> dict:
	return {app["name"]: app for app in get_apps()}


def test_a_sales_user_is_offered_the_app_with_its_workspace_and_logo():
	frappe.set_user(make_user("Sales User"))
	app = _offered()["opportunity_suite"]
	assert app["title"] == "Opportunity Suite"
	assert app["route"] == "/app/opportunities"
	logo = urlparse(app["logo"]).path.removeprefix("/assets/opportunity_suite/")
	assert os.path.isfile(frappe.get_app_path("opportunity_suite", "public", *logo.split("/")))


def test_a_user_who_may_not_read_opportunities_is_not_offered_it():
	frappe.set_user(make_user("Blogger"))
	assert "opportunity_suite" not in _offered()
