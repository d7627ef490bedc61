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
		const options = (fields) => [""].concat(fields.map(({ value, label }) => ({ value, label })));
		const grid = frm.fields_dict.mappings.grid;
		grid.update_docfield_property("opportunity_field", "options", options(message.opportunity));
		grid.update_docfield_property("project_field", "options", options(message.project));
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
