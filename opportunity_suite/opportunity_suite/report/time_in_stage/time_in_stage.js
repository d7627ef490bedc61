// Time in Stage: how long deals sit in each stage (median, p75), how many move on, and who is stuck.
frappe.query_reports["Time in Stage"] = {
	filters: [
		{
			fieldname: "from_date",
			label: __("Left Stage From"),
			fieldtype: "Date",
			default: frappe.datetime.add_months(frappe.datetime.get_today(), -12),
			reqd: 1,
		},
		{
			fieldname: "to_date",
			label: __("Left Stage To"),
			fieldtype: "Date",
			default: frappe.datetime.get_today(),
			reqd: 1,
		},
		{
			fieldname: "assigned_to",
			label: __("Assigned To"),
			fieldtype: "Link",
			options: "User",
		},
		{
			fieldname: "stage",
			label: __("Stage"),
			fieldtype: "Link",
			options: "Opportunity Stage",
			get_query: () => ({ filters: { stage_type: "Open" } }),
		},
	],
	formatter(value, row, column, data, default_formatter) {
		// a stage's row has no days in stage of its own (its listed deals have): blank, not 0.0
		if (column.fieldname === "days_in_stage" && data && !data.opportunity) return "";
		const shown = default_formatter(value, row, column, data);
		if (column.fieldname === "days_in_stage" && data && data.flagged) {
			return `<span class="text-danger" title="${frappe.utils.escape_html(
				__("Over twice the stage's median")
			)}">${shown}</span>`;
		}
		return shown;
	},
};
