"""The Kanban board by sales stage that ships with the app, and its columns kept in step with the stages.

Frappe's Kanban dialog only offers Select fields and keeps a board's columns as static rows, so the app
makes the board on the Link field `sales_stage` itself and rewrites its columns whenever an Opportunity
Stage is added, renamed, reordered, disabled or deleted: one column per stage in stage order, disabled
stages archived (hidden on the board). Moving a card saves the opportunity through its controller
(Frappe's update_order_for_single_card calls frappe.client.set_value → doc.save()), so the stage's
probability and the forecast follow."""

import frappe
from frappe.utils import flt

from opportunity_suite.services.list_fields import aggregate

DOCTYPE = "Opportunity"
BOARD_NAME = "Opportunities by Stage"
FIELD = "sales_stage"
# Kanban Board Column indicators per stage type
INDICATORS = {"Open": "Blue", "Won": "Green", "Lost": "Red"}


def stage_columns() -> list[frappe._dict]:
	"""Stages in pipeline order (read without permission checks: the board is the same for everyone)."""
	return frappe.get_all(
		"Opportunity Stage",
		fields=["name", "stage_type", "disabled"],
		order_by="sequence asc, name asc",
	)


def ensure_stage_board():
	"""Create the board when missing, then bring its columns in step with the stages."""
	if not frappe.db.exists("Kanban Board", BOARD_NAME):
		board = frappe.new_doc("Kanban Board")
		board.kanban_board_name = BOARD_NAME
		board.reference_doctype = DOCTYPE
		board.field_name = FIELD
		board.private = 0
		board.show_labels = 1
		board.fields = frappe.as_json(["amount", "probability", "forecast_amount", "expected_close_date"])
		_set_columns(board)
		board.flags.ignore_permissions = True
		board.insert()
		return board
	return sync_board_columns()


def sync_board_columns(renamed: tuple[str, str] | None = None):
	"""Rewrite the board's columns from the stages, keeping each column's card order and colour.
	`renamed` = (old, new) carries a renamed stage's column over to its new name."""
	if not frappe.db.exists("Kanban Board", BOARD_NAME):
		return None
	board = frappe.get_doc("Kanban Board", BOARD_NAME)
	if _set_columns(board, renamed):
		board.flags.ignore_permissions = True
		board.save()
	return board


def _set_columns(board, renamed: tuple[str, str] | None = None) -> bool:
	"""Set the board's columns from the stages; True when anything changed."""
	existing = {col.column_name: col for col in board.columns}
	if renamed and renamed[0] in existing:
		existing[renamed[1]] = existing.pop(renamed[0])
	wanted = []
	for stage in stage_columns():
		old = existing.get(stage.name)
		wanted.append(
			{
				"column_name": stage.name,
				"status": "Archived" if stage.disabled else "Active",
				"indicator": (old.indicator if old and old.indicator else None)
				or INDICATORS.get(stage.stage_type, "Gray"),
				"order": (old.order if old and old.order else None) or _cards_in(stage.name),
			}
		)
	current = [
		{"column_name": c.column_name, "status": c.status, "indicator": c.indicator, "order": c.order}
		for c in board.columns
	]
	if current == wanted:
		return False
	board.set("columns", wanted)
	return True


def _cards_in(stage: str) -> str:
	"""The column's card order: the opportunities in the stage (Frappe's drag code expects a JSON list)."""
	return frappe.as_json(
		frappe.get_all(DOCTYPE, filters={FIELD: stage}, pluck="name", order_by="modified desc")
	)


def column_totals(filters=None) -> dict:
	"""Each stage column's count, total and weighted (forecast) amount in the default currency, over the
	opportunities the user may read that match the board's `filters` (Frappe filters, as the list sends
	them). Read through frappe.get_list, so the user's permission conditions (private visibility, shares,
	user permissions) apply; base amounts make mixed currencies add up."""
	from opportunity_suite.services import totals
	from opportunity_suite.services.forecast import get_settings

	summed = totals.column_totals(filters)  # the pre-aggregated totals, where they hold the answer
	if summed is not None:
		return {
			"currency": get_settings().default_currency,
			"columns": {
				row[FIELD]: {
					"count": int(row.opportunities),
					"amount": flt(row.base_amount),
					"forecast": flt(row.base_forecast_amount),
				}
				for row in summed
				if row[FIELD]
			},
		}
	rows = frappe.get_list(
		DOCTYPE,
		filters=filters or [],
		fields=[
			FIELD,
			aggregate("count", "name", "count"),
			aggregate("sum", "base_amount", "amount"),
			aggregate("sum", "base_forecast_amount", "forecast"),
		],
		group_by=FIELD,
		order_by=f"{FIELD} asc",
	)
	columns = {
		row[FIELD]: {
			"count": int(row["count"] or 0),
			"amount": flt(row["amount"]),
			"forecast": flt(row["forecast"]),
		}
		for row in rows
		if row[FIELD]
	}
	return {"currency": get_settings().default_currency, "columns": columns}


def move_card(board_name: str, docname: str, from_colname: str, to_colname: str, old_index, new_index):
	"""Frappe's card move (`update_order_for_single_card`: the board's card order, then the deal saved
	through frappe.client.set_value), tried again when another request saved the board in between. The
	board saves its column order as it opens, so a card dragged at once met "Document has been modified
	after you have opened it" and went back, unsaved. A failed try is rolled back whole (the request has
	written nothing before it): a new transaction reads the board as it is now, where a savepoint would
	keep reading the old snapshot."""
	from frappe.desk.doctype.kanban_board.kanban_board import update_order_for_single_card

	attempts = 3
	for attempt in range(attempts):
		try:
			return update_order_for_single_card(
				board_name, docname, from_colname, to_colname, old_index, new_index
			)
		except frappe.TimestampMismatchError:
			if attempt == attempts - 1:
				raise
			frappe.db.rollback()
			frappe.local.message_log = []  # the lost try's "please refresh": the next one is the answer
