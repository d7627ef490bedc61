// Opportunity Forecast: weighted pipeline by period of expected close and stage (and assignee).
frappe.query_reports["Opportunity Forecast"] = {
	filters: [
		{
			fieldname: "period",
			label: __("Period", null, "Opportunity Forecast"),
			fieldtype: "Select",
			options: [
				{ value: "Month", label: __("Month") },
				{ value: "Quarter", label: __("Quarter") },
			],
			default: "Month",
			reqd: 1,
		},
		{
			// Stage: a row per period × stage; Stage and Assignee: the same per assignee (the drill-down);
			// Owner: per assignee, with quota, attainment (won ÷ quota) and coverage (open weighted ÷ quota to go)
			fieldname: "group_by",
			label: __("Group By"),
			fieldtype: "Select",
			options: [
				{ value: "Stage", label: __("Stage") },
				{ value: "Stage and Assignee", label: __("Stage and Assignee") },
				{ value: "Owner", label: __("Owner (with quota)") },
				// a row per month or quarter: the workspace chart's bars, and where its "open report" lands
				{ value: "Period", label: __("Period only") },
			],
			default: "Stage",
			reqd: 1,
		},
		{
			fieldname: "from_date",
			label: __("Expected Close From"),
			fieldtype: "Date",
			default: frappe.datetime.month_start(),
			reqd: 1,
		},
		{
			fieldname: "to_date",
			label: __("Expected Close To"),
			fieldtype: "Date",
			default: frappe.datetime.add_days(
				frappe.datetime.add_months(frappe.datetime.month_start(), 12),
				-1
			),
			reqd: 1,
		},
		{
			fieldname: "status",
			label: __("Status"),
			fieldtype: "Select",
			options: [
				{ value: "", label: __("All") },
				{ value: "Open", label: __("Open", null, "Opportunity") },
				{ value: "Won", label: __("Won") },
				{ value: "Lost", label: __("Lost") },
			],
			default: "Open",
			// the owner view counts every deal: won ones make the attainment
			depends_on: "eval:doc.group_by != 'Owner'",
		},
		{
			fieldname: "assigned_to",
			label: __("Assigned To", null, "Opportunity"),
			fieldtype: "Link",
			options: "User",
		},
		{
			// the user and everyone reporting to them (User's Reports To)
			fieldname: "team",
			label: __("Team Of"),
			fieldtype: "Link",
			options: "User",
		},
		{
			fieldname: "forecast_category",
			label: __("Forecast Category"),
			fieldtype: "Select",
			options: [
				{ value: "", label: "" },
				...["Pipeline", "Best Case", "Commit", "Closed", "Omitted"].map((c) => ({
					value: c,
					label: __(c),
				})),
			],
		},
		{
			fieldname: "sales_stage",
			label: __("Sales Stage"),
			fieldtype: "Link",
			options: "Opportunity Stage",
		},
		{
			// shown once Opportunity has an organization field
			fieldname: "organization",
			label: __("Organization"),
			fieldtype: "Link",
			options: "Organization",
			hidden: 1,
		},
	],
	// a ratio's total is not the sum (nor the mean) of its rows': the summary above shows the true ones.
	// The total row is the one without a data object.
	formatter(value, row, column, data, default_formatter) {
		if (!data && ["attainment", "coverage"].includes(column.fieldname)) return "";
		return default_formatter(value, row, column, data);
	},
	onload(report) {
		frappe.model.with_doctype("Opportunity", () => {
			const filter = report.get_filter("organization");
			if (filter && frappe.meta.has_field("Opportunity", "organization")) {
				filter.df.hidden = 0;
				filter.refresh();
			}
		});
	},
};
