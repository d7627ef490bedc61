// Opportunity form: "New Event" and "New To Do" of the related list, in a dialog over the deal (the form
// stays open), saved through Frappe's insert (its permissions and validation); the related counts follow.
(() => {
	frappe.provide("opportunity_suite.deal_page");

	const saved = (frm, doctype, doc) => {
		frappe.show_alert({ message: __("{0} {1} saved", [__(doctype), frappe.utils.escape_html(doc.name)]), indicator: "green" });
		frm.sidebar && frm.sidebar.reload_docinfo(); // the timeline and the sidebar's assignments
		opportunity_suite.deal_page.refresh_related_counts(frm);
	};

	const insert = (dialog, frm, doc) =>
		frappe.db
			.insert(doc)
			.then((inserted) => {
				dialog.hide();
				saved(frm, doc.doctype, inserted);
			})
			.catch(() => {}) // frappe.xcall has shown the server's message
			.finally(() => dialog.get_primary_btn().prop("disabled", false));

	opportunity_suite.deal_page.new_event = (frm) => {
		const starts_on = frappe.datetime.now_datetime();
		const dialog = new frappe.ui.Dialog({
			title: __("New Event for {0}", [frappe.utils.escape_html(frm.doc.opportunity_name || frm.doc.name)]),
			fields: [
				{ fieldname: "subject", fieldtype: "Data", label: __("Subject"), reqd: 1, default: frm.doc.opportunity_name },
				{ fieldname: "starts_on", fieldtype: "Datetime", label: __("Starts On"), reqd: 1, default: starts_on },
				{ fieldname: "ends_on", fieldtype: "Datetime", label: __("Ends On") },
				{ fieldname: "column_break", fieldtype: "Column Break" },
				{
					fieldname: "event_category",
					fieldtype: "Select",
					label: __("Category"),
					options: ["Event", "Meeting", "Call", "Sent/Received Email", "Other"].join("\n"),
					default: "Meeting",
				},
				{ fieldname: "event_type", fieldtype: "Select", label: __("Type"), options: "Private\nPublic", default: "Private" },
				{ fieldname: "section_description", fieldtype: "Section Break" },
				{ fieldname: "description", fieldtype: "Small Text", label: __("Description") },
			],
			primary_action_label: __("Save"),
			primary_action(values) {
				dialog.get_primary_btn().prop("disabled", true);
				insert(dialog, frm, {
					doctype: "Event",
					...values,
					event_participants: [{ reference_doctype: frm.doctype, reference_docname: frm.doc.name }],
				});
			},
		});
		dialog.show();
		return dialog;
	};

	// whom a new to-do is for: the deal's assignee, else the user. A to-do for someone on a record is Frappe's
	// assignment (services/assignment.py), so it needs the right to assign the deal: without it, nobody
	opportunity_suite.deal_page.todo_for = (frm) =>
		frm.perm[0] && (frm.perm[0].write || frm.perm[0].share) ? frm.doc.assigned_to || frappe.session.user : "";

	opportunity_suite.deal_page.new_todo = (frm) => {
		const dialog = new frappe.ui.Dialog({
			title: __("New To Do for {0}", [frappe.utils.escape_html(frm.doc.opportunity_name || frm.doc.name)]),
			fields: [
				{ fieldname: "description", fieldtype: "Small Text", label: __("Description"), reqd: 1, default: frm.doc.opportunity_name },
				{
					fieldname: "allocated_to",
					fieldtype: "Link",
					options: "User",
					label: __("Allocated To"),
					default: opportunity_suite.deal_page.todo_for(frm),
					description: __("A to-do for someone other than the deal's assignee makes them its assignee."),
					get_query: () => ({ query: "frappe.core.doctype.user.user.user_query", filters: { ignore_user_type: 0 } }),
				},
				{ fieldname: "column_break", fieldtype: "Column Break" },
				{ fieldname: "date", fieldtype: "Date", label: __("Due Date") },
				{ fieldname: "priority", fieldtype: "Select", label: __("Priority"), options: "Low\nMedium\nHigh", default: "Medium" },
			],
			primary_action_label: __("Save"),
			primary_action(values) {
				dialog.get_primary_btn().prop("disabled", true);
				insert(dialog, frm, {
					doctype: "ToDo",
					...values,
					reference_type: frm.doctype,
					reference_name: frm.doc.name,
					// Frappe lets a user who isn't a System Manager make a ToDo only as its assigner or assignee
					assigned_by: frappe.session.user,
				});
			},
		});
		dialog.show();
		return dialog;
	};
})();
