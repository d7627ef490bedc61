frappe.listview_settings["Lead"] = {
	add_fields: ["status", "opportunity"],
	get_indicator(doc) {
		const colors = { New: "blue", Contacted: "orange", Qualified: "purple", Converted: "green", Junk: "gray" };
		return [__(doc.status), colors[doc.status] || "gray", `status,=,${doc.status}`];
	},
};
