frappe.listview_settings["Sales Order"] = {
	add_fields: ["status"],
	get_indicator(doc) {
		const colors = { Open: "orange", Delivered: "green", Cancelled: "red" };
		return [__(doc.status), colors[doc.status] || "gray", `status,=,${doc.status}`];
	},
};
