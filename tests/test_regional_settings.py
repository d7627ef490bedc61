"""The product site's first-run regional settings follow its country, as Frappe's setup wizard would set
them: a Chinese site gets CNY and China's date and number formats (setup_site.apply_regional_settings)."""

import frappe
import pytest
from frappe.geo.country_info import get_country_info

from opportunity_suite.setup_site import apply_regional_settings


@pytest.fixture
def env(monkeypatch):
	for name in ("OS_COUNTRY", "OS_CURRENCY", "OS_LANGUAGE", "OS_TIME_ZONE"):
		monkeypatch.delenv(name, raising=False)
	return monkeypatch


def _fresh_settings():
	"""System Settings as a fresh site has them before the first-run setup (never saved here)."""
	settings = frappe.get_doc("System Settings")
	settings.update({"country": None, "currency": None, "date_format": "dd-mm-yyyy", "number_format": None})
	return settings


def test_a_chinese_site_gets_cny_and_chinas_formats(env):
	env.setenv("OS_COUNTRY", "China")
	env.setenv("OS_LANGUAGE", "zh")
	env.setenv("OS_TIME_ZONE", "Asia/Shanghai")
	settings = _fresh_settings()
	apply_regional_settings(settings)
	china = get_country_info("China")
	assert (settings.country, settings.currency, settings.language, settings.time_zone) == (
		"China",
		"CNY",
		"zh",
		"Asia/Shanghai",
	)
	assert settings.date_format == china["date_format"] == "yyyy-mm-dd"
	assert settings.number_format == china["number_format"] == "#,###.##"
	assert settings.time_format == frappe.db.get_value("Country", "China", "time_format")
	assert frappe.db.get_value("Currency", "CNY", "enabled")


def test_a_country_already_on_the_site_decides_when_no_variable_is_set(env):
	settings = _fresh_settings()
	settings.country = "Germany"
	apply_regional_settings(settings)
	assert (settings.currency, settings.date_format, settings.number_format) == (
		"EUR",
		frappe.db.get_value("Country", "Germany", "date_format"),
		"#.###,##",
	)


def test_os_currency_still_wins_over_the_countrys(env):
	env.setenv("OS_COUNTRY", "China")
	env.setenv("OS_CURRENCY", "USD")
	settings = _fresh_settings()
	apply_regional_settings(settings)
	assert (settings.currency, settings.date_format) == ("USD", "yyyy-mm-dd")


def test_no_country_at_all_is_a_united_states_site(env):
	settings = _fresh_settings()
	apply_regional_settings(settings)
	assert (settings.country, settings.currency, settings.date_format, settings.language) == (
		"United States",
		"USD",
		"mm-dd-yyyy",
		settings.language or "en",
	)


def _example_rule_in_english():
	"""The example rule as a fresh site has it (installed in English), inside the test's transaction."""
	from opportunity_suite.services.alerts.example import EXAMPLE_RULE, example_texts

	english = example_texts("en")
	rule = frappe.get_doc("Alert Rule", EXAMPLE_RULE)
	email = next(action for action in rule.actions if action.action_type == "Email")
	rule.description = english["description"]
	email.subject, email.message = english["subject"], english["message"]
	rule.save(ignore_permissions=True)
	return rule.name


def test_the_example_rule_speaks_the_sites_language():
	"""A Chinese site's example hot-deal rule mails in Chinese, with its placeholders intact."""
	from opportunity_suite.services.alerts.example import localize_example_rule
	from opportunity_suite.services.alerts.templates import record_context, render
	from tests.factories import make_opportunity

	name = _example_rule_in_english()
	localize_example_rule("zh")
	rule = frappe.get_doc("Alert Rule", name)
	email = next(action for action in rule.actions if action.action_type == "Email")
	assert rule.description.startswith("示例")
	assert email.subject == "热门商机：{{ doc.opportunity_name }}（{{ doc.amount|money(doc.currency) }}）"
	opp = make_opportunity(opportunity_name="华南区扩容", amount=25000, sales_stage="Qualification")
	html = render(email.message, record_context(opp), "Opportunity")
	assert "刚刚新建了一个金额为" in html and "华南区扩容" in html and opp.name in html
	assert "负责人：" in html and "预计成交日期：" in html


def test_an_edited_example_rule_is_left_alone():
	from opportunity_suite.services.alerts.example import localize_example_rule

	name = _example_rule_in_english()
	rule = frappe.get_doc("Alert Rule", name)
	email = next(action for action in rule.actions if action.action_type == "Email")
	email.subject = "Big one: {{ doc.opportunity_name }}"
	rule.save(ignore_permissions=True)
	localize_example_rule("zh")
	rule.reload()
	assert (
		next(a for a in rule.actions if a.action_type == "Email").subject
		== "Big one: {{ doc.opportunity_name }}"
	)
