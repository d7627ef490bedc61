"""The workspace's sample data for a System Manager (issue 13, "A first run that isn't empty"): "Load Sample
Data" fills the site with the pipeline the workspace then shows, "Remove Sample Data" takes exactly that
away (services/demo.py; the counts and what removal keeps are tested in test_demo.py)."""

import frappe
import pytest

from opportunity_suite.services import demo
from opportunity_suite.services.alerts.example import EXAMPLE_RULE
from tests.browser_helpers import screenshot


def _wait_for_action(page, label: str):
	"""The workspace's toolbar offers `label`: its own button, or the "Sample Data" group holding it."""
	page.wait_for_function(
		"""(label) => [...document.querySelectorAll('.custom-actions button')].some((button) =>
			button.offsetParent && [label, 'Sample Data'].includes(button.innerText.trim())
			&& !(label === 'Remove Sample Data' && button.innerText.trim() === 'Sample Data'))""",
		arg=label,
	)


def _click_in_toolbar(page, label: str):
	"""A workspace action: its own button, or an item of the toolbar's "Sample Data" group."""
	button = page.locator(f".page-actions button[data-label='{label.replace(' ', '%20')}']:visible")
	if not button.count():
		page.locator(".page-actions .inner-group-button button:visible", has_text="Sample Data").click()
		button = page.locator(".page-actions .dropdown-item:visible", has_text=label)
	button.first.click()
	page.locator(".modal.show .btn-primary", has_text="Yes").click()


@pytest.fixture
def no_sample_data():
	frappe.db.rollback()
	assert not demo.tracked(), "sample data is loaded on the test site: remove it first"
	rule_was_on = frappe.db.get_value("Alert Rule", EXAMPLE_RULE, "enabled")
	yield
	frappe.db.rollback()
	frappe.set_user("Administrator")
	if demo.tracked():  # the test failed half-way: leave the site as it was
		demo.remove_sample_data()
	frappe.db.set_value("Alert Rule", EXAMPLE_RULE, "enabled", rule_was_on)
	frappe.db.commit()


@pytest.mark.browser
@pytest.mark.slow
def test_load_and_remove_sample_data_from_the_workspace(desk, no_sample_data):
	desk.set_viewport_size({"width": 1440, "height": 900})
	before = frappe.db.count("Opportunity")
	desk.goto("/app/opportunities")
	_wait_for_action(desk, "Load Sample Data")
	_click_in_toolbar(desk, "Load Sample Data")
	desk.locator(".alert-message", has_text="Sample data loaded").wait_for(timeout=600_000)
	frappe.db.rollback()
	assert len(demo.tracked()["records"]["Opportunity"]) == 200
	assert frappe.db.count("Opportunity") == before + 200
	# the workspace shows the pipeline, and now offers the removal
	_wait_for_action(desk, "Remove Sample Data")
	desk.wait_for_function(
		"() => [...document.querySelectorAll('.number-widget-box')].every(b => !b.innerText.includes('Loading'))"
	)
	screenshot(desk, "workspace_with_sample_data")

	_click_in_toolbar(desk, "Remove Sample Data")
	desk.locator(".alert-message", has_text="Sample data removed").wait_for(timeout=600_000)
	frappe.db.rollback()
	assert not demo.tracked()
	assert frappe.db.count("Opportunity") == before
	_wait_for_action(desk, "Load Sample Data")
