frappe.listview_settings["Lead"] = {
	add_fields: ["status", "opportunity"],
	get_indicator(doc) {
		const colors = { New: "blue", Contacted: "orange", Qualified: "purple", Converted: "green", Junk: "gray" };
		const escape = frappe.utils.escape_html;
		return [escape(__(doc.status, null, "Lead")), colors[doc.status] || "gray", `status,=,${escape(doc.status)}`];
	},
};
