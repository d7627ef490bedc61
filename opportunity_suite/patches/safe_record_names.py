"""Picklist and organization names stored before names had to be safe (services/safe_names.py) are
renamed to their safe form, links following; the Kanban board's columns follow renamed stages."""

from opportunity_suite.services.kanban import sync_board_columns
from opportunity_suite.services.safe_names import rename_unsafe_names


def execute():
	renamed = rename_unsafe_names()
	for old, new in renamed.get("Opportunity Stage", []):
		sync_board_columns(renamed=(old, new))
