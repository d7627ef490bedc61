"""VCF (vCard 2.1, 3.0, 4.0): each card is a row of its properties (`vcard.py` reads them), with fixed
fields, so there is no column map; the card's opportunity is named by the run's pattern and its contact
written with it (`vcard_contacts.py`)."""

import re
from collections.abc import Iterator

from opportunity_suite.services.importing import vcard
from opportunity_suite.services.importing.common import RowError
from opportunity_suite.services.importing.formats.base import FileFormat

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


class VCFFormat(FileFormat):
	kind = "VCF"
	extensions = ("vcf", "vcard")
	has_column_map = False
	preview_fields = ("opportunity_name", "organization", "contact")
	rows_make_contacts = True
	makes_missing_organizations = True

	def __iter__(self) -> Iterator[tuple[int, list]]:
		return vcard.iter_rows(self.path, self.encoding)

	def check(self):
		vcard.check(self.path)  # decoded value by value, after unfolding: a card with no name fails alone

	def check_row(self, row: list, width: int):
		pass  # a card's cells are its properties, not columns

	def count_rows(self) -> int:
		return vcard.count_cards(self.path)  # without parsing them

	def defaults(self) -> dict:
		"""A card names no stage or close date: working ones, nothing to type."""
		from opportunity_suite.services.importing.vcard_contacts import vcard_defaults

		return vcard_defaults()

	def record(self, run, row: list) -> dict:
		"""The card's opportunity (its name from the run's pattern, its organization from ORG); the card
		goes along for its Contact (`vcard_contacts`)."""
		card = row.card
		if card.error:  # cut off, or no name: the card fails saying so
			raise RowError(card.error)
		pattern = run.doc.vcard_name_pattern or "{organization} – {full_name}"
		email = card.emails[0].value if card.emails else ""
		placeholders = {
			"organization": card.organization,
			"full_name": card.full_name,
			"first_name": card.first_name,
			"last_name": card.last_name,
			"email": email,
		}
		name = _PLACEHOLDER.sub(lambda m: placeholders.get(m.group(1), m.group(0)), pattern)
		name = re.sub(r"^[\s–-]+|[\s–-]+$", "", name) or card.full_name or email
		record = {"opportunity_name": name[:140], "_card": card}
		if run.has_organization and card.organization:
			record["organization"] = card.organization
		return record
