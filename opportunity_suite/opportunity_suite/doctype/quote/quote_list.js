frappe.listview_settings["Quote"] = {
	add_fields: ["status"],
	get_indicator(doc) {
		const colors = { Draft: "gray", Sent: "blue", Accepted: "green", Rejected: "red" };
		return [__(doc.status), colors[doc.status] || "gray", `status,=,${doc.status}`];
	},
};
