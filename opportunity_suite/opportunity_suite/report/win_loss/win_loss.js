// Win/Loss: the deals closed between two dates, won against lost, by the chosen dimension.
frappe.query_reports["Win Loss"] = {
	filters: [
		{
			fieldname: "dimension",
			label: __("Group By"),
			fieldtype: "Select",
			options: ["Loss Reason", "Competitor", "Assigned To", "Lead Source", "Size Band"].map((d) => ({
				value: d,
				label: __(d),
			})),
			default: "Loss Reason",
			reqd: 1,
		},
		{
			fieldname: "from_date",
			label: __("Closed From"),
			fieldtype: "Date",
			default: frappe.datetime.year_start(),
			reqd: 1,
		},
		{
			fieldname: "to_date",
			label: __("Closed To"),
			fieldtype: "Date",
			default: frappe.datetime.get_today(),
			reqd: 1,
		},
		{ fieldname: "assigned_to", label: __("Assigned To"), fieldtype: "Link", options: "User" },
		{ fieldname: "lead_source", label: __("Lead Source"), fieldtype: "Link", options: "Lead Source" },
	],
};
