// Project Mapping: the pickers offer each side's mappable fields (custom fields included, from
// opportunity_suite.api.conversion.get_mapping_fields); the locked Opportunity Name → Project Name row stays.
// The server checks every row again on save (existence, compatible types, each project field once).
frappe.ui.form.on("Project Mapping", {
	async onload(frm) {
		const { message } = await frappe.call({
			method: "opportunity_suite.api.conversion.get_mapping_fields",
			type: "GET",
		});
		if (!message) return;
		const grid = frm.fields_dict.mappings.grid;
		// the pickers and the grid's cells show each field's label; the fieldname is stored
		const offer = (fieldname, fields) => {
			const labels = Object.fromEntries(fields.map(({ value, label }) => [value, label]));
			const formatter = (value) => frappe.utils.escape_html(value ? labels[value] || value : "");
			grid.update_docfield_property(fieldname, "options", [{ value: "", label: "" }, ...fields]);
			grid.update_docfield_property(fieldname, "formatter", formatter);
		};
		offer("opportunity_field", message.opportunity);
		offer("project_field", message.project);
		frm.refresh_field("mappings");
	},
});

frappe.ui.form.on("Project Mapping Row", {
	before_mappings_remove(frm, cdt, cdn) {
		if (locals[cdt][cdn].locked) {
			frappe.throw(__("The locked row {0} cannot be removed.", [__("Opportunity Name") + " → " + __("Project Name")]));
		}
	},
});
