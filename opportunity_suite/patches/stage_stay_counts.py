"""The Time in Stage summary (Stage Stay Count) of the history written before it existed
(services/stage_stays.py)."""

from opportunity_suite.services.stage_stays import rebuild


def execute():
	rebuild()
