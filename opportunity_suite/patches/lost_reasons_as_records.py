"""Lost reasons were free text only: each lost deal with a text and no Loss Reason gets the Lost Reason
record its text names (any case, trimmed), else Other; the text stays as the detail."""

from opportunity_suite.services.win_loss import classify_stored_lost_reasons


def execute():
	classify_stored_lost_reasons()
