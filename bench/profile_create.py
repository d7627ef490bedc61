"""Profile one Opportunity create the way the desk and REST make it (`frappe.client.insert` as a Sales User,
then the request's commit), with cProfile: where a create's time goes, and how long the transaction holds
the naming series' row lock (from the name being taken to the commit).

	OS_BENCH_DIR=… ../env/bin/python <app>/bench/profile_create.py [--creates 5] [--top 40]

Prints the slowest functions by cumulative time, over --creates creates after one warm-up create."""

import argparse
import cProfile
import io
import json
import pstats
import time

import _site


def main():
	parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
	parser.add_argument("--creates", type=int, default=5)
	parser.add_argument("--top", type=int, default=40)
	parser.add_argument("--sort", default="cumulative")
	args = parser.parse_args()

	frappe = _site.connect()
	from frappe.client import insert
	from frappe.model import naming
	from frappe.utils import add_days, today

	from tests.http_users import make_login_users, remove_login_users

	users = make_login_users(seller="Sales User")
	tag = f"Profile {frappe.generate_hash(length=6)}"
	held = []
	taken = {}
	original_getseries = naming.getseries

	def getseries(key, digits):
		taken["at"] = time.perf_counter()
		return original_getseries(key, digits)

	naming.getseries = getseries

	# Frappe's ToDo.update_in_reference reads the deal's to-dos FOR UPDATE: the gap after the newest deal's
	# to-do stays locked until the commit, and every concurrent create's to-do goes into that gap
	from frappe.desk.doctype.todo.todo import ToDo

	original_update_in_reference = ToDo.update_in_reference
	todo_locked = []

	def update_in_reference(self):
		taken.setdefault("todo", time.perf_counter())
		return original_update_in_reference(self)

	ToDo.update_in_reference = update_in_reference

	def create(i: int):
		frappe.set_user(users["seller"])
		frappe.local.form_dict = frappe._dict()
		taken.pop("at", None)
		taken.pop("todo", None)
		doc = {
			"doctype": "Opportunity",
			"opportunity_name": f"{tag} {i}",
			"amount": 1000 + i,
			"sales_stage": "Qualification",
			"expected_close_date": add_days(today(), 30),
		}
		insert(json.dumps(doc))
		frappe.db.commit()
		if "at" in taken:
			held.append(time.perf_counter() - taken["at"])
		if "todo" in taken:
			todo_locked.append(time.perf_counter() - taken["todo"])

	try:
		create(0)  # warm-up: caches, imports
		held.clear()
		todo_locked.clear()
		profile = cProfile.Profile()
		start = time.perf_counter()
		profile.enable()
		for i in range(1, args.creates + 1):
			create(i)
		profile.disable()
		spent = (time.perf_counter() - start) / args.creates
		out = io.StringIO()
		pstats.Stats(profile, stream=out).sort_stats(args.sort).print_stats(args.top)
		print(out.getvalue())
		print(f"one create: {spent * 1000:.0f} ms (profiled)")
		if held:
			print(f"series lock held: {sum(held) / len(held) * 1000:.0f} ms a create (name taken → commit)")
		else:
			print("series lock held: never (the name was not taken from tabSeries in the transaction)")
		if todo_locked:
			print(
				f"to-do gap lock held: {sum(todo_locked) / len(todo_locked) * 1000:.0f} ms a create "
				"(ToDo.update_in_reference → commit)"
			)
	finally:
		naming.getseries = original_getseries
		ToDo.update_in_reference = original_update_in_reference
		frappe.set_user("Administrator")
		frappe.db.rollback()
		for name in frappe.get_all(
			"Opportunity", filters={"opportunity_name": ("like", f"{tag}%")}, pluck="name"
		):
			frappe.delete_doc("Opportunity", name, force=True, ignore_permissions=True)
		frappe.db.commit()
		remove_login_users(users)
		frappe.destroy()


if __name__ == "__main__":
	main()
