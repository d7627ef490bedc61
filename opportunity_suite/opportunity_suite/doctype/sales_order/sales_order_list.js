frappe.listview_settings["Sales Order"] = {
	add_fields: ["status"],
	get_indicator(doc) {
		const colors = { Open: "orange", Delivered: "green", Cancelled: "red" };
		const escape = frappe.utils.escape_html;
		return [escape(__(doc.status, null, "Sales Order")), colors[doc.status] || "gray", `status,=,${escape(doc.status)}`];
	},
};
