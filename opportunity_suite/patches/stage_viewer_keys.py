"""The history's viewer keys, for the Time in Stage report of a private user (services/stage_viewers.py)."""

from opportunity_suite.services import stage_viewers


def execute():
	stage_viewers.rebuild(commit=True)
