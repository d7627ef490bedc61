"""The Time in Stage summary recounted with its month rows (all deals and per assignee) beside its day rows
(services/stage_stays.py)."""

from opportunity_suite.services.stage_stays import rebuild


def execute():
	rebuild()
