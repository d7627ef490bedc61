"""Time in Stage: median and p75 days per stage, stage-to-stage conversion and the deals sitting 2× the
median in their stage, by assignee and period. The work is in services/time_in_stage.py."""

from opportunity_suite.services.time_in_stage import run


def execute(filters=None):
	return run(filters)
