"""What a person does in the desk's dialogs, with the looking that goes with it."""


def pick_link(dialog, fieldname: str, value: str):
	"""Type into a Link field, pick the suggestion, and wait for the link's server check to settle."""
	field = dialog.locator(f"input[data-fieldname='{fieldname}']")
	field.click()
	field.fill(value)
	dialog.page.locator("[role=option]:visible", has_text=value).first.click()
	dialog.page.wait_for_function(
		f"() => cur_dialog.get_value('{fieldname}') == '{value}' && !frappe.request.ajax_count"
	)


def type_number(dialog, fieldname: str, value: float):
	"""Type a number (then Tab) and look that the dialog took it; a field refreshed by a late server
	answer while typing gets typed again."""
	field = dialog.locator(f"input[data-fieldname='{fieldname}']")
	for _attempt in range(3):
		field.fill(str(value))
		field.press("Tab")
		try:
			dialog.page.wait_for_function(
				f"() => cur_dialog.get_value('{fieldname}') == {value}", timeout=5000
			)
			return
		except Exception:
			continue
	raise AssertionError(f"the dialog did not take {value} in {fieldname}")
