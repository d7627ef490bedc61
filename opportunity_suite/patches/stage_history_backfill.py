"""The stage history of the deals made before it existed, from their Version rows, and their stale flags
(services/history.py, services/stale.py)."""

from opportunity_suite.services.history import backfill
from opportunity_suite.services.stale import refresh_all_stale


def execute():
	backfill()
	refresh_all_stale()
