// The list's "Take Snapshot Now": today's pipeline frozen, for who may create snapshots
frappe.listview_settings["Forecast Snapshot"] = {
	onload(listview) {
		if (!frappe.model.can_create("Forecast Snapshot")) return;
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
