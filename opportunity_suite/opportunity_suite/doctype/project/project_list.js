frappe.listview_settings["Project"] = {
	add_fields: ["status"],
	get_indicator(doc) {
		const colors = { Open: "blue", "In Progress": "orange", "On Hold": "gray", Completed: "green", Cancelled: "red" };
		const escape = frappe.utils.escape_html;
		return [escape(__(doc.status, null, "Project")), colors[doc.status] || "gray", `status,=,${escape(doc.status)}`];
	},
};
