frappe.listview_settings["Project"] = {
	add_fields: ["status"],
	get_indicator(doc) {
		const colors = { Open: "blue", "In Progress": "orange", "On Hold": "gray", Completed: "green", Cancelled: "red" };
		return [__(doc.status), colors[doc.status] || "gray", `status,=,${doc.status}`];
	},
};
