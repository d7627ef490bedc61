"""The importer matches names (duplicates, links, organizations) in Python the way MariaDB compares them,
so that a name the database calls equal is never created twice nor reported missing."""

import frappe
import pytest

from opportunity_suite.services.importing.values import match_key

PAIRS = [
	("Café Müller", "cafe muller"),
	("Café", "Cafe   "),
	("ÅNGSTRÖM AB", "angstrom ab"),
	("Straße", "STRASSE"),
	("Acme", " Acme"),  # a leading space counts
	("Acme", "Acme."),
	("Zoë", "Zoe"),
	("Łódź", "Lodz"),  # Ł is a letter of its own for both
]


@pytest.mark.parametrize("a,b", PAIRS)
def test_match_key_agrees_with_the_database_collation(a, b):
	(equal_in_db,) = frappe.db.sql(
		"SELECT CAST(%s AS CHAR CHARACTER SET utf8mb4) COLLATE utf8mb4_unicode_ci = "
		"CAST(%s AS CHAR CHARACTER SET utf8mb4) COLLATE utf8mb4_unicode_ci",
		(a, b),
	)[0]
	assert (match_key(a) == match_key(b)) == bool(equal_in_db)
