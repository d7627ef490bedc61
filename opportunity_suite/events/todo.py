"""ToDo doc_events: an assignment on an opportunity needs the right to assign it, and sets its
`assigned_to` (services/assignment.py)."""

from opportunity_suite.services.assignment import check_todo_assignment, sync_from_todo


def validate(doc, method=None):
	check_todo_assignment(doc)


def on_trash(doc, method=None):
	check_todo_assignment(doc, deleted=True)


def on_update(doc, method=None):
	sync_from_todo(doc)


def after_delete(doc, method=None):
	sync_from_todo(doc, deleted=True)
