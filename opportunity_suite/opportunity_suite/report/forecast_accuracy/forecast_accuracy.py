"""Forecast Accuracy: what the frozen Forecast Snapshots said N weeks before each closed period ended
against what was won, per assignee, with the bias. The work is in services/forecast_accuracy.py."""

from opportunity_suite.services.forecast_accuracy import run


def execute(filters=None):
	return run(filters)
