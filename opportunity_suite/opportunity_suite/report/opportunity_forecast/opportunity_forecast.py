"""Opportunity Forecast: the weighted pipeline by month or quarter of expected close × stage (× assigned to),
in the default currency (base_amount, base_forecast_amount). The work is in services/forecast_report.py."""

from opportunity_suite.services.forecast_report import run


def execute(filters=None):
	return run(filters)
