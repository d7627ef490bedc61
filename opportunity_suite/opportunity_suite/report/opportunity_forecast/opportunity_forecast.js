// Opportunity Forecast: weighted pipeline by period of expected close, stage and assignee.
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
		},
		{
			fieldname: "assigned_to",
			label: __("Assigned To", null, "Opportunity"),
			fieldtype: "Link",
			options: "User",
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
