const METHOD = "opportunity_suite.api.importing.";

frappe.ui.form.on("Opportunity Import", {
	setup(frm) {
		frappe.realtime.on("opportunity_import_refresh", (data) => {
			if (data.name === frm.doc.name) frm.reload_doc();
		});
	},
	refresh(frm) {
		if (frm.is_new()) return;
		const call = (method, args = {}) =>
			frappe.call({ method: METHOD + method, args: { import_name: frm.doc.name, ...args }, freeze: true })
				.then((r) => { frm.reload_doc(); return r; });
		if (["Pending", "Failed"].includes(frm.doc.status)) {
			frm.add_custom_button(__("Detect and Map Columns"), () => call("prepare_import"));
			frm.add_custom_button(__("Start Import"), () => call("start_import")).addClass("btn-primary");
		}
		if (["Running", "Queued"].includes(frm.doc.status)) {
			frm.add_custom_button(__("Resume"), () => call("resume_import"));
			if (frm.doc.total_rows) {
				frm.dashboard.show_progress(__("Import"), (100 * (frm.doc.rows_read || 0)) / frm.doc.total_rows,
					__("{0} of {1} rows", [frm.doc.rows_read || 0, frm.doc.total_rows]));
			}
		}
		if (["Completed", "Completed with Errors", "Failed"].includes(frm.doc.status)) {
			frm.add_custom_button(__("Undo Import"), () =>
				frappe.confirm(__("Remove what this import created and restore what it changed?"), () => call("undo_import")));
		}
		frm.add_custom_button(__("Save as Template"), () =>
			frappe.prompt({ fieldname: "template_name", fieldtype: "Data", label: __("Template Name"), reqd: 1 },
				(v) => call("save_as_template", v)));
	},
});
