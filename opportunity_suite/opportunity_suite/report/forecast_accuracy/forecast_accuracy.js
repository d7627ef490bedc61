// Forecast Accuracy: each closed period's frozen forecast (N weeks before its end) against what was won.
frappe.query_reports["Forecast Accuracy"] = {
	filters: [
		{
			fieldname: "period",
			label: __("Period"),
			fieldtype: "Select",
			options: [
				{ value: "Month", label: __("Month") },
				{ value: "Quarter", label: __("Quarter") },
			],
			default: "Month",
			reqd: 1,
		},
		{
			fieldname: "weeks_before",
			label: __("Weeks Before Period End"),
			fieldtype: "Int",
			default: 4,
			reqd: 1,
		},
		{
			fieldname: "from_date",
			label: __("From"),
			fieldtype: "Date",
			default: frappe.datetime.add_months(frappe.datetime.month_start(), -12),
			reqd: 1,
		},
		{
			fieldname: "to_date",
			label: __("To"),
			fieldtype: "Date",
			default: frappe.datetime.add_days(frappe.datetime.month_start(), -1),
			reqd: 1,
		},
		{ fieldname: "assigned_to", label: __("Assigned To"), fieldtype: "Link", options: "User" },
		{ fieldname: "team", label: __("Team Of"), fieldtype: "Link", options: "User" },
	],
};
