// The list's "Take Snapshot Now": today's pipeline frozen, for who may create snapshots
frappe.listview_settings["Forecast Snapshot"] = {
	onload(listview) {
		// the DocType is "not created by hand" (in_create): Frappe lists it in the user's `in_create`, not
		// `can_create`, when their role may create it
		const doctype = "Forecast Snapshot";
		if (!frappe.model.can_create(doctype) && !(frappe.boot.user.in_create || []).includes(doctype)) return;
		listview.page.add_inner_button(__("Take Snapshot Now"), () => {
			frappe
				.xcall("opportunity_suite.api.forecast_snapshots.take_snapshot", {})
				.then((name) => {
					frappe.show_alert({ message: __("Snapshot {0} taken", [name]), indicator: "green" });
					listview.refresh();
				});
		});
	},
};
