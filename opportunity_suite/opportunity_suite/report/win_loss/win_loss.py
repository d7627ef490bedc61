"""Win/Loss: closed deals by loss reason, competitor, owner, lead source or size band, with win rates and a
chart. The work is in services/win_loss.py."""

from opportunity_suite.services.win_loss import run


def execute(filters=None):
	return run(filters)
