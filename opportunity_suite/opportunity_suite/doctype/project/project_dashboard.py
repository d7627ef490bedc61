from frappe import _


def get_data():
	return {
		"fieldname": "project",
		"transactions": [
			{"label": _("Sales"), "items": ["Quote", "Sales Order"]},
			{"label": _("Converted From"), "items": ["Opportunity"]},
		],
	}
