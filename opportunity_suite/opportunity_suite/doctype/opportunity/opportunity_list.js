frappe.listview_settings["Opportunity"] = {
	add_fields: ["status", "sales_stage", "currency"],
	get_indicator(doc) {
		const colour = { Open: "blue", Won: "green", Lost: "red" }[doc.status] || "gray";
		return [__(doc.sales_stage || doc.status), colour, "sales_stage,=," + doc.sales_stage];
	},
};
