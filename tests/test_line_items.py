import frappe
import pytest

from opportunity_suite.services.items import InactiveItemError
from tests.factories import make_opportunity
from tests.records_fixtures import line, make_product, make_service


def test_rate_defaults_to_unit_price_and_amount_is_qty_times_rate():
	product, service = make_product(unit_price=120), make_service(unit_price=80)
	opp = make_opportunity(
		items=[line(product, qty=3), line(service, qty=2.5, rate=90), line(product, rate=0)]
	)
	rows = [(r.item_type, r.item_name, r.qty, r.rate, r.amount) for r in opp.items]
	assert rows == [
		("Product", product.product_name, 3, 120, 360),
		("Service", service.service_name, 2.5, 90, 225),
		("Product", product.product_name, 1, 0, 0),  # a rate of 0 given on purpose is kept
	]


def test_without_amount_from_items_lines_never_change_the_amount():
	product = make_product(unit_price=100)
	opp = make_opportunity(amount=5000, probability=10, items=[line(product, qty=2)])
	assert opp.amount == 5000 and opp.forecast_amount == 500
	opp.append("items", line(product, qty=10))
	opp.save()
	assert opp.amount == 5000


def test_amount_from_items_takes_the_lines_total_before_the_forecast():
	product, service = make_product(unit_price=100), make_service(unit_price=40)
	opp = make_opportunity(
		amount=1, probability=50, amount_from_items=1, items=[line(product, qty=2), line(service, qty=5)]
	)
	assert opp.amount == 400
	assert opp.forecast_amount == 200  # the forecast saw the lines' total
	opp.items[0].qty = 4
	opp.save()
	assert opp.amount == 600 and opp.forecast_amount == 300
	assert frappe.db.get_value("Opportunity", opp.name, ["amount", "forecast_amount"]) == (600, 300)
	opp.items = []
	opp.save()
	assert opp.amount == 0


def test_inactive_item_is_refused_but_an_existing_line_stays():
	product = make_product(unit_price=10)
	opp = make_opportunity(items=[line(product, qty=1)])
	frappe.db.set_value("Product", product.name, "is_active", 0)
	opp.reload()
	opp.next_step = "Call back"
	opp.save()  # the line was there before the product was deactivated
	opp.append("items", line(product))
	with pytest.raises(InactiveItemError):
		opp.save()
	with pytest.raises(InactiveItemError):
		make_opportunity(items=[line(make_service(is_active=0))])


def test_missing_item_is_refused():
	with pytest.raises(frappe.LinkValidationError):
		make_opportunity(items=[{"item_type": "Product", "item": "PRO-does-not-exist"}])
