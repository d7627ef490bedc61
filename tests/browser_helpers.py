"""What a person does in the desk's dialogs, with the looking that goes with it."""


def pick_link(dialog, fieldname: str, value: str):
	"""Type into a Link field, pick the suggestion, and wait for the link's server check to settle."""
	from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

	field = dialog.locator(f"input[data-fieldname='{fieldname}']")
	took = f"() => cur_dialog.get_value('{fieldname}') == '{value}' && !frappe.request.ajax_count"
	for attempt in range(3):  # as a person looks that the pick took (a slow desk may drop one)
		field.click()
		field.fill(value)
		dialog.page.locator("[role=option]:visible", has_text=value).first.click()
		try:
			dialog.page.wait_for_function(took, timeout=10_000)
			return
		except PlaywrightTimeoutError:
			if attempt == 2:
				raise


def pick_in_form(scope, fieldname: str, value: str):
	"""Type into a Link or Autocomplete field of a form (or of a table row opened in it), pick the
	suggestion, and wait for the requests it starts to settle."""
	field = scope.locator(f"input[data-fieldname='{fieldname}']:visible").first
	field.click()
	field.fill(value)
	page = scope.page
	suggestions = page.locator(".awesomplete [role=option]:visible, .awesomplete li:visible")
	suggestions.filter(has=page.get_by_text(value, exact=True)).first.click()
	page.wait_for_function("() => !frappe.request.ajax_count")


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


def screenshot(page, name: str):
	"""An extra screenshot artifact of the page as it is now (the desk fixture saves the last state)."""
	from tests.conftest import ARTIFACTS

	ARTIFACTS.mkdir(parents=True, exist_ok=True)
	page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def user_date(page, iso: str) -> str:
	"""A date as the desk's user types it (the system's date format)."""
	return page.evaluate("(d) => frappe.datetime.str_to_user(d)", iso)


def create_opportunity_in_form(page, name: str, amount: float, stage: str, close_on: str, **data_fields):
	"""A new opportunity in the full form, filled as a person does (Data fields by fieldname) and saved
	with Ctrl+S; returns once the form is saved with its stage. The page is connected to socketio before
	the save, so what the save publishes (notifications, list updates) reaches it."""
	page.goto("/app/opportunity/new")
	page.wait_for_function("() => frappe.realtime.socket && frappe.realtime.socket.connected")
	form = page.locator(".form-layout")
	form.locator("input[data-fieldname='opportunity_name']").fill(name)
	form.locator("input[data-fieldname='amount']").fill(str(amount))
	pick_in_form(form, "sales_stage", stage)
	date_input = form.locator("input[data-fieldname='expected_close_date']")
	date_input.fill(user_date(page, close_on))
	date_input.press("Escape")
	for fieldname, value in data_fields.items():
		form.locator(f"input[data-fieldname='{fieldname}']").fill(value)
	page.keyboard.press("Control+s")
	# saved: the form's indicator shows the status (Open / Won / Lost), its Sales Stage field the stage
	page.wait_for_function(
		"(stage) => cur_frm && !cur_frm.is_new() && !cur_frm.is_dirty() && cur_frm.doc.sales_stage === stage",
		arg=stage,
	)
	page.locator(".form-layout [data-fieldname='sales_stage']", has_text=stage).first.wait_for()


def open_table_row(page, table: str, idx: int | None = None, add: bool = False):
	"""Open a row of a form's table in its row form (the pencil at the row's end), after adding it when
	`add`; the last row when `idx` is None. A click that lands while the table still redraws is repeated.
	Returns the open row form; close it with close_table_row."""
	grid = page.locator(f".frappe-control[data-fieldname='{table}']")
	opened = page.locator(".grid-row-open")
	if add:
		count = grid.locator(".grid-body .grid-row").count()
		grid.locator(".grid-add-row").click()
		page.wait_for_function(
			"([table, count]) => cur_frm.fields_dict[table].grid.grid_rows.length > count", arg=[table, count]
		)
		# a table not edited in its rows opens the new row's form itself
		if not page.evaluate("(table) => cur_frm.fields_dict[table].grid.allow_on_grid_editing()", table):
			opened.wait_for()
			return opened
	for _attempt in range(3):
		rows = grid.locator(".grid-body .grid-row")
		row = rows.last if idx is None else grid.locator(f".grid-body .grid-row[data-idx='{idx}']")
		row.locator(".btn-open-row").click()
		try:
			opened.wait_for(timeout=5000)
			return opened
		except Exception:
			continue
	raise AssertionError(f"the row form of {table} did not open")


def close_table_row(page):
	page.locator(".grid-row-open .grid-collapse-row").click()
	page.locator(".grid-row-open").wait_for(state="hidden")


def logged_in_page(browser, base_url: str, user: str, width: int = 1440, height: int = 900):
	"""(context, page) of a new browser context logged in as `user` (the test users' password); the caller
	closes the context."""
	from tests.http_users import PASSWORD

	context = browser.new_context(base_url=base_url, viewport={"width": width, "height": height})
	response = context.request.post("/api/method/login", data={"usr": user, "pwd": PASSWORD})
	assert response.ok, response.text()
	page = context.new_page()
	page.set_default_timeout(30_000)
	return context, page
