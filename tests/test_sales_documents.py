import frappe
import pytest

from opportunity_suite.api import sales_documents as api
from tests.factories import make_opportunity, make_user
from tests.records_fixtures import line, make_contact, make_organization, make_product, make_service


def opportunity_with_lines():
	organization = make_organization()
	contact = make_contact(links=[("Organization", organization.name)])
	product, service = make_product(unit_price=200), make_service(unit_price=75)
	return make_opportunity(
		organization=organization.name,
		contact=contact.name,
		amount=999,
		items=[line(product, qty=2), line(service, qty=4, rate=70)],
	)


def lines_of(doc):
	return [(r.item_type, r.item, r.item_name, r.qty, r.rate, r.amount) for r in doc.items]


def test_quote_from_an_opportunity_carries_its_lines_and_links():
	opp = opportunity_with_lines()
	quote = api.make_quote(opp.name)
	assert quote.doctype == "Quote" and quote.is_new()
	quote.insert()
	assert quote.opportunity == opp.name
	assert (quote.organization, quote.contact, quote.subject, quote.currency) == (
		opp.organization,
		opp.contact,
		opp.opportunity_name,
		opp.currency,
	)
	assert quote.status == "Draft" and not quote.project
	assert lines_of(quote) == lines_of(opp)
	assert quote.total == 400 + 280
	assert frappe.get_all("Quote", filters={"opportunity": opp.name}, pluck="name") == [quote.name]


def test_sales_order_from_an_opportunity_and_from_a_quote():
	opp = opportunity_with_lines()
	order = api.make_sales_order(opp.name).insert()
	assert (order.opportunity, order.organization, order.contact, order.status) == (
		opp.name,
		opp.organization,
		opp.contact,
		"Open",
	)
	assert lines_of(order) == lines_of(opp) and order.total == 680

	quote = api.make_quote(opp.name)
	quote.items[0].qty = 3
	quote.status = "Accepted"
	quote.insert()
	from_quote = api.make_sales_order_from_quote(quote.name).insert()
	assert (from_quote.quote, from_quote.opportunity, from_quote.organization, from_quote.contact) == (
		quote.name,
		opp.name,
		opp.organization,
		opp.contact,
	)
	assert from_quote.status == "Open"  # the quote's status is not the order's
	assert lines_of(from_quote) == lines_of(quote) and from_quote.total == 880
	assert frappe.db.count("Sales Order", {"opportunity": opp.name}) == 2


def test_print_format_shows_lines_and_total():
	opp = opportunity_with_lines()
	quote = api.make_quote(opp.name).insert()
	html = frappe.get_print("Quote", quote.name, print_format="Quote with Lines")
	for row in quote.items:
		assert row.item_name in html
	assert quote.get_formatted("total") in html
	assert frappe.get_meta("Quote").default_print_format == "Quote with Lines"
	order = api.make_sales_order(opp.name).insert()
	html = frappe.get_print("Sales Order", order.name)
	assert order.items[1].item_name in html and order.get_formatted("total") in html


def test_mapping_is_allowed_to_a_sales_user():
	opp = opportunity_with_lines()
	frappe.set_user(make_user("Sales User"))
	quote = api.make_quote(opp.name).insert()
	assert quote.opportunity == opp.name
	assert api.make_sales_order(opp.name).insert().opportunity == opp.name
	assert api.make_sales_order_from_quote(quote.name).insert().quote == quote.name


def test_mapping_is_refused_without_rights():
	opp = opportunity_with_lines()
	quote = api.make_quote(opp.name).insert()
	frappe.set_user(make_user("Blogger"))
	for method, source in (
		(api.make_quote, opp.name),
		(api.make_sales_order, opp.name),
		(api.make_sales_order_from_quote, quote.name),
	):
		with pytest.raises(frappe.PermissionError):
			method(source)


def test_subject_defaults_to_the_opportunity_name():
	opp = opportunity_with_lines()
	quote = frappe.get_doc({"doctype": "Quote", "opportunity": opp.name}).insert()
	assert quote.subject == opp.opportunity_name and quote.total == 0
	order = frappe.get_doc({"doctype": "Sales Order"}).insert()
	assert order.subject == order.name
