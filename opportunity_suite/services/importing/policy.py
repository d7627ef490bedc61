"""The duplicate policy (None / Skip / Overwrite / Merge on the run's match fields): which rows make new
records, which update existing ones, which are skipped."""

import frappe
from frappe import _
from frappe.utils import cstr

from opportunity_suite.services.importing import values
from opportunity_suite.services.importing.common import DOCTYPE


class DuplicatePolicy:
	"""Mixed into BatchWriter: needs `run`, `result`, `skip`."""

	def key(self, record: dict) -> tuple | None:
		parts = tuple(values.match_key(record.get(f)) for f in self.run.match_fields)
		return parts if all(parts) else None

	def existing_matches(self, parsed) -> dict[tuple, str]:
		"""match key → name of the oldest readable opportunity with those values."""
		run = self.run
		first = run.match_fields[0]
		wanted = list({cstr(r.get(first)).rstrip() for _n, _row, r in parsed if r.get(first)})
		if not wanted:
			return {}
		matches = {}
		for chunk_start in range(0, len(wanted), 1000):
			rows = frappe.get_list(
				DOCTYPE,
				filters={first: ("in", wanted[chunk_start : chunk_start + 1000])},
				fields=["name", *run.match_fields],
				order_by="creation asc",
				limit_page_length=0,
			)
			for row in rows:
				key = self.key(row)
				if key:
					matches.setdefault(key, row.name)
		return matches

	def apply_policy(self, parsed):
		"""(new records with the rows they came from, {existing name: [(row_no, row, record)]})."""
		run = self.run
		new: dict = {}  # key or row_no → [first (row_no, row, record), merged rows...]
		updates: dict[str, list] = {}
		existing = self.existing_matches(parsed) if run.policy != "None" else {}
		for row_no, row, record in parsed:
			key = self.key(record) if run.policy != "None" else None
			if key is None:
				new[("row", row_no)] = [(row_no, row, record)]
				continue
			if key in existing:
				if run.policy == "Skip":
					self.skip(row_no, _("duplicate of {0}").format(existing[key]), existing[key])
				else:
					updates.setdefault(existing[key], []).append((row_no, row, record))
				continue
			if key in new:  # an earlier row of this file makes this record
				if run.policy == "Skip":
					# named once the earlier row's record is made (BatchWriter.name_skipped_duplicates)
					self.skip(row_no, new[key][0][0])
					self.result.outcomes[-1].append("earlier row")
				else:
					first = new[key][0][2]
					combine(first, record, overwrite=run.policy == "Overwrite")
					new[key].append((row_no, row, None))
				continue
			new[key] = [(row_no, row, record)]
		return list(new.values()), updates


def combine(target: dict, record: dict, overwrite: bool):
	"""Overwrite: the row's non-empty cells replace the values (an empty cell never blanks a field).
	Merge: the row fills only the fields that are empty."""
	for fieldname, value in record.items():
		if value in (None, ""):
			continue
		if fieldname != "name" and (overwrite or target.get(fieldname) in (None, "")):
			target[fieldname] = value


def differs(a, b) -> bool:
	if a in (None, "") and b in (None, ""):
		return False
	if isinstance(a, int | float) or isinstance(b, int | float):
		try:
			return float(a or 0) != float(b or 0)
		except (TypeError, ValueError):
			return True
	return cstr(a) != cstr(b)
