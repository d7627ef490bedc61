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
	// the deals without a reason, competitor, owner or source: their row says "(none)" as the chart does
	// and the total row (no data object) leaves the rates blank: the summary shows the true ones
	formatter(value, row, column, data, default_formatter) {
		if (!data && ["win_rate", "win_rate_amount"].includes(column.fieldname)) return "";
		if (column.fieldname === "grouped" && !value && data && data.label) {
			return frappe.utils.escape_html(data.label);
		}
		return default_formatter(value, row, column, data);
	},
};
