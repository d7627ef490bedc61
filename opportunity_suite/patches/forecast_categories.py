"""Forecast categories came: each stage gets its default, each opportunity its stage's."""

from opportunity_suite.services.forecast_categories import fill_missing_categories


def execute():
	fill_missing_categories()
