"""Link resolution for a batch: every linked value looked up once per batch, checked against the importing
user's user permissions. An organization that doesn't exist yet, where the run may create it, is noted
on the row (`_new_organizations`) and created only once the row has passed its checks
(`BatchWriter.make_row_links`): a row that fails leaves no organization behind."""

import frappe
from frappe import _

from opportunity_suite.services.importing import competitors, organizations, people, values


class LinkResolver:
	"""Mixed into BatchWriter: needs `run`, `fail`."""

	def ensure_organizations(self, names, force: bool = False) -> dict[str, str]:
		"""match key → Organization name; missing ones created when allowed (or for vCards)."""
		return organizations.ensure(self, names, force or bool(self.run.doc.create_missing_organizations))

	def organization_creation_refused(self) -> str | None:
		"""Why this run can't create a missing organization (a message with `{0}` for its name), or None."""
		run = self.run
		if not (run.doc.create_missing_organizations or run.file.makes_missing_organizations):
			return _("Organization {0} does not exist. Turn on Create Missing Organizations to create it.")
		if "refused" not in self.__dict__:
			self.refused = organizations.creation_refused(run.user, run.user_permissions)
		return self.refused

	def resolve_links(self, parsed):
		run = self.run
		link_fields = {
			f: run.fields[f].options
			for f in run.fields
			if run.fields[f].fieldtype == "Link" and any(r.get(f) for _n, _row, r in parsed)
		}
		resolved: dict[str, dict[str, str]] = {}
		refusals: dict[str, dict[str, str]] = {}  # why a user or contact named is refused
		for fieldname, link_doctype in link_fields.items():
			wanted = list(dict.fromkeys(r[fieldname] for _n, _row, r in parsed if r.get(fieldname)))
			if link_doctype == "Organization" and run.has_organization:
				resolved[fieldname] = organizations.existing(wanted)
				continue
			if link_doctype in ("User", "Contact"):  # by login name too / by full name too, with reasons
				resolved[fieldname], refusals[fieldname] = (
					people.resolve_users(wanted, run.user_map)
					if link_doctype == "User"
					else people.resolve_contacts(wanted)
				)
				continue
			found = {}
			for name in frappe.get_all(link_doctype, filters={"name": ("in", list(wanted))}, pluck="name"):
				found[values.match_key(name)] = name
			resolved[fieldname] = found
		competitor_errors = competitors.resolve(parsed)  # the names of a Competitors column, as links
		out = []
		for (row_no, row, record), competitor_error in zip(parsed, competitor_errors, strict=True):
			errors, cells = [], {}
			if competitor_error:
				errors.append(competitor_error)
				cells[competitors.FIELD] = competitor_error
			for fieldname, link_doctype in link_fields.items():
				value = record.get(fieldname)
				if not value:
					continue
				key = values.match_key(value)
				name = resolved[fieldname].get(key)
				reason = refusals.get(fieldname, {}).get(key)
				errors_before = len(errors)
				if not name and reason:
					errors.append(_("{0}: {1}").format(_(run.fields[fieldname].label), reason))
				elif not name and link_doctype == "Organization" and run.has_organization:
					refused = self.organization_creation_refused()
					if refused is None:  # made once the row has passed (make_row_links)
						record.setdefault("_new_organizations", {})[fieldname] = value
					else:  # named as the batch first spelled it, for every row naming it
						known = organizations.organization_errors(self)
						errors.append(known.setdefault(key, refused.format(value)))
				elif not name:
					errors.append(_("{0} {1} not found").format(_(link_doctype), value))
				elif link_doctype in run.user_permissions and name not in run.user_permissions[link_doctype]:
					errors.append(
						_("{0} {1} is not permitted by your user permissions").format(_(link_doctype), name)
					)
				else:
					record[fieldname] = name
				if len(errors) > errors_before:
					cells[fieldname] = errors[-1]
			if errors:
				self.fail(row_no, row, "; ".join(errors), cells)
			else:
				out.append((row_no, row, record))
		return out
