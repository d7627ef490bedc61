// Alert Rule form: document types limited to the app's records (the server's list,
// opportunity_suite.api.alerts.search_watchable_doctypes); fields offered from the chosen type by their
// labels (the fieldname is stored).
const NO_VALUE = ["Section Break", "Column Break", "Tab Break", "HTML", "Button", "Image", "Fold", "Heading"];

frappe.ui.form.on("Alert Rule Action", {
	action_type(frm) {
		frm.trigger("warn_without_outgoing_account");
	},
});

frappe.ui.form.on("Alert Rule", {
	setup(frm) {
		frm.set_query("document_type", () => ({
			query: "opportunity_suite.api.alerts.search_watchable_doctypes",
		}));
	},
	refresh(frm) {
		frm.trigger("offer_fields");
		if (!frm.is_new() && frm.doc.consecutive_failures) {
			frm.dashboard.set_headline(
				__("This rule failed {0} time(s) in a row: see the Alert Log.", [frm.doc.consecutive_failures]),
				"orange"
			);
		}
		frm.trigger("warn_without_outgoing_account");
		if (!frm.is_new()) {
			frm.add_custom_button(__("Alert Log"), () => frappe.set_route("List", "Alert Log", { alert_rule: frm.doc.name }));
		}
	},
	warn_without_outgoing_account(frm) {
		if (!(frm.doc.actions || []).some((row) => row.action_type === "Email")) return;
		frappe
			.xcall("opportunity_suite.api.alerts.outgoing_email_status")
			.then((status) => {
				if (!status.configured) frm.dashboard.set_headline(frappe.utils.escape_html(status.message), "red");
			});
	},
	document_type(frm) {
		frm.trigger("offer_fields");
	},
	offer_fields(frm) {
		const doctype = frm.doc.document_type;
		if (!doctype) return;
		frappe.model.with_doctype(doctype, () => {
			const choice = (fieldname, label) => ({ value: fieldname, label: __(label || fieldname, null, doctype) });
			const fields = frappe.meta
				.get_docfields(doctype)
				.filter((df) => !NO_VALUE.includes(df.fieldtype) && !["Table", "Table MultiSelect", "Password"].includes(df.fieldtype))
				.map((df) => choice(df.fieldname, df.label));
			const standard = [
				choice("name", "ID"),
				choice("owner", "Created By"),
				choice("creation", "Created On"),
				choice("modified", "Last Updated On"),
			];
			const options = [...standard, ...fields];
			const labels = Object.fromEntries(options.map((o) => [o.value, o.label]));
			// the grid's cells show the label too (a field the type no longer has shows its stored name)
			const formatter = (value) => frappe.utils.escape_html(value ? labels[value] || value : "");
			const offer = (grid, fieldname, choices) => {
				grid.update_docfield_property(fieldname, "fieldtype", "Autocomplete");
				grid.update_docfield_property(fieldname, "options", choices);
				grid.update_docfield_property(fieldname, "formatter", formatter);
				grid.refresh();
			};
			offer(frm.fields_dict.conditions.grid, "fieldname", options);
			offer(frm.fields_dict.actions.grid, "update_field", fields);
		});
	},
});
