// The Opportunities workspace's sample data, for System Managers (opportunity_suite.api.demo): "Load sample
// data" (a primary button while the site has no opportunity, else under "Sample Data"), and "Remove sample
// data" once it is loaded.
(() => {
	const WORKSPACE = "opportunities"; // the workspace's slug
	const METHOD = "opportunity_suite.api.demo.";

	const counts_text = (counts) =>
		Object.entries(counts || {})
			.map(([doctype, count]) => `${count} × ${__(doctype)}`)
			.join(", ");

	const reload_workspace = () => {
		// the cards and the chart read the new numbers: drop the page's cached data and draw it again
		frappe.workspace.pages = {};
		frappe.workspace.show();
	};

	const load = () =>
		frappe.confirm(
			__("Fill this site with sample organizations, contacts and 200 opportunities? Remove them again with Remove Sample Data."),
			() =>
				frappe
					.call({
						method: METHOD + "load_sample_data",
						freeze: true,
						freeze_message: __("Loading sample data…"),
					})
					.then(({ message }) => {
						let text = __("Sample data loaded: {0}.", [counts_text(message.counts)]);
						if (message.rule_enabled) text += " " + __("The hot-deal alert rule is on.");
						frappe.show_alert({ message: text, indicator: "green" }, 10);
						reload_workspace();
					})
		);

	const remove = () =>
		frappe.confirm(
			__("Remove the sample data? Only the records Load Sample Data made are deleted."),
			() =>
				frappe
					.call({
						method: METHOD + "remove_sample_data",
						freeze: true,
						freeze_message: __("Removing sample data…"),
					})
					.then(({ message }) => {
						const kept = Object.values(message.kept || {}).flat();
						let text = __("Sample data removed: {0}.", [counts_text(message.deleted)]);
						if (kept.length) {
							text += " " + __("Kept because other records link to them: {0}", [kept.join(", ")]);
						}
						frappe.show_alert({ message: text, indicator: kept.length ? "orange" : "green" }, 10);
						reload_workspace();
					})
		);

	const add_actions = async (workspace, page) => {
		if (frappe.router.slug(page.name) !== WORKSPACE || !workspace.is_read_only || !frappe.user.has_role("System Manager")) return;
		const { message: state } = await frappe.call({ method: METHOD + "sample_data_status", type: "GET" });
		// the page may have changed while asking
		if (!state || frappe.router.slug(workspace.get_page_to_show().name) !== WORKSPACE || !workspace.is_read_only) return;
		const toolbar = workspace.page;
		// a button also leaves an item in the page's menu (for small screens), which clearing the toolbar
		// keeps: drop ours before adding them again
		toolbar.menu
			.find(".dropdown-item")
			.filter((_, item) => decodeURIComponent($(item).attr("data-label") || "").includes(__("Sample Data")))
			.parent()
			.remove();
		if (state.loaded) {
			toolbar.add_inner_button(__("Remove Sample Data"), remove);
		} else if (state.empty) {
			toolbar.add_inner_button(__("Load Sample Data"), load, null, "primary");
		} else {
			toolbar.add_inner_button(__("Load Sample Data"), load, __("Sample Data"));
		}
	};

	const patch = () => {
		const Workspace = frappe.views && frappe.views.Workspace;
		if (!Workspace || Workspace.prototype.__opportunity_suite_sample_data) return;
		const setup_actions = Workspace.prototype.setup_actions;
		Workspace.prototype.setup_actions = function (page) {
			const result = setup_actions.call(this, page);
			add_actions(this, page);
			return result;
		};
		Workspace.prototype.__opportunity_suite_sample_data = true;
	};

	patch();
	$(document).on("startup", patch);
})();
