from frappe import _


def get_data():
	"""Form connections: records whose `opportunity` field points at this opportunity. Events, to-dos,
	files, comments, emails, contacts and lines are counted by opportunity_suite.api.related."""
	return {
		"fieldname": "opportunity",
		"transactions": [
			{"label": _("Sales"), "items": ["Quote", "Sales Order"]},
			{"label": _("Delivery"), "items": ["Project"]},
		],
	}
