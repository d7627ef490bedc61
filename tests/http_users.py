"""Users with a password, committed, and an HTTP client logged in as one of them (or as Guest), for tests
that go through the real web server (the `web_server` fixture) with users holding exactly one role."""

import json
import urllib.error
import urllib.request
from http.cookiejar import CookieJar

import frappe

from tests.factories import make_user
from tests.records_fixtures import delete_committed_users

PASSWORD = "Opp-Suite-Test-9b7f!"


def make_login_users(**roles_by_key: str) -> dict[str, str]:
	"""Committed users that can log in with PASSWORD, e.g. make_login_users(seller="Sales User",
	visitor=""): an empty role list makes a Website User. Remove them with delete_committed_users."""
	from frappe.utils.password import update_password

	frappe.db.rollback()
	frappe.set_user("Administrator")
	users = {}
	for key, roles in roles_by_key.items():
		users[key] = make_user(*[role for role in roles.split(",") if role])
		update_password(users[key], PASSWORD)
	frappe.db.commit()
	return users


def remove_login_users(users: dict[str, str]):
	delete_committed_users(users)


class Client:
	"""A browser-less caller of the web server: `call(path, payload, method, accept)` -> (status, body),
	the body parsed as JSON when it is JSON, else the text."""

	def __init__(self, base_url: str, user: str | None = None, password: str = PASSWORD):
		self.base_url = base_url
		self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
		if user and user != "Guest":
			status, body = self.call("/api/method/login", {"usr": user, "pwd": password})
			assert status == 200, body

	def call(self, path: str, payload: dict | None = None, method: str = "POST", accept: str | None = None):
		data = json.dumps(payload).encode() if payload is not None else None
		headers = {"Content-Type": "application/json"}
		if accept:
			headers["Accept"] = accept
		request = urllib.request.Request(f"{self.base_url}{path}", data, headers, method=method)
		try:
			with self.opener.open(request) as response:
				return response.status, _parse(response.read())
		except urllib.error.HTTPError as error:
			return error.code, _parse(error.read())

	def get(self, path: str, accept: str | None = None):
		return self.call(path, None, "GET", accept)


def _parse(raw: bytes):
	text = raw.decode("utf-8", "replace")
	try:
		return json.loads(text)
	except ValueError:
		return text
