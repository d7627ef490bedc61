// Alert Rule form: document types limited to the app's records; fields offered from the chosen type.
const NOT_WATCHABLE = ["Alert Rule", "Alert Log", "Opportunity Stage", "Opportunity Type", "Lead Source", "Opportunity Import"];
const NO_VALUE = ["Section Break", "Column Break", "Tab Break", "HTML", "Button", "Image", "Fold", "Heading"];

frappe.ui.form.on("Alert Rule Action", {
	action_type(frm) {
		frm.trigger("warn_without_outgoing_account");
	},
});

frappe.ui.form.on("Alert Rule", {
	setup(frm) {
		frm.set_query("document_type", () => ({
			filters: { module: "Opportunity Suite", istable: 0, issingle: 0, name: ["not in", NOT_WATCHABLE] },
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
			const fields = frappe.meta
				.get_docfields(doctype)
				.filter((df) => !NO_VALUE.includes(df.fieldtype) && !["Table", "Table MultiSelect", "Password"].includes(df.fieldtype))
				.map((df) => df.fieldname);
			const options = ["", "name", "owner", "creation", "modified", ...fields];
			const conditions = frm.fields_dict.conditions.grid;
			conditions.update_docfield_property("fieldname", "fieldtype", "Autocomplete");
			conditions.update_docfield_property("fieldname", "options", options);
			const actions = frm.fields_dict.actions.grid;
			actions.update_docfield_property("update_field", "fieldtype", "Autocomplete");
			actions.update_docfield_property("update_field", "options", fields);
		});
	},
});
