"""ToDo doc_events: an assignment on an opportunity sets its `assigned_to` (services/assignment.py)."""

from opportunity_suite.services.assignment import sync_from_todo


def on_update(doc, method=None):
	sync_from_todo(doc)


def after_delete(doc, method=None):
	sync_from_todo(doc, deleted=True)
