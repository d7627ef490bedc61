frappe.listview_settings["Opportunity Import"] = {
	// a run where every row failed is Failed (red), one with some failed rows orange, a clean one green
	get_indicator(doc) {
		const colours = {
			Pending: "gray",
			Queued: "blue",
			Running: "blue",
			Completed: "green",
			"Completed with Errors": "orange",
			Failed: "red",
			Undone: "gray",
		};
		return [__(doc.status, null, "Opportunity Import"), colours[doc.status] || "gray", "status,=," + doc.status];
	},
};
