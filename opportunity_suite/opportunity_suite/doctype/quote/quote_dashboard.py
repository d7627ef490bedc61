from frappe import _


def get_data():
	return {"fieldname": "quote", "transactions": [{"label": _("Sales"), "items": ["Sales Order"]}]}
