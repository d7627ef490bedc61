frappe.listview_settings["Quote"] = {
	add_fields: ["status"],
	get_indicator(doc) {
		const colors = { Draft: "gray", Sent: "blue", Accepted: "green", Rejected: "red" };
		const escape = frappe.utils.escape_html;
		return [escape(__(doc.status, null, "Quote")), colors[doc.status] || "gray", `status,=,${escape(doc.status)}`];
	},
};
