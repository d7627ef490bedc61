from frappe import _


def get_data():
	return {
		"fieldname": "organization",
		"transactions": [
			{"label": _("Pipeline"), "items": ["Opportunity"]},
			{"label": _("Sales"), "items": ["Quote", "Sales Order"]},
			{"label": _("Delivery"), "items": ["Project"]},
		],
	}
