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
	formatter(value, row, column, data, default_formatter) {
		if (column.fieldname === "grouped" && !value && data && data.label) {
			return frappe.utils.escape_html(data.label);
		}
		return default_formatter(value, row, column, data);
	},
	// the server's last row is the total, each deal counted once (by competitor a deal is in a row per
	// competitor: the rows' sum would count it twice); it becomes the table's total row (screen, print, CSV;
	// an export has it as its last row). Narrowed by the table's own filters, the total adds up the rows shown
	// (by competitor it stays blank: which of them are the same deal isn't known here)
	get_datatable_options(options) {
		const report = frappe.query_report;
		if (!options.data || !report || !report.raw_data) return options; // Frappe asks with {} too
		const total = options.data.find((row) => row.is_total_row);
		if (!total) return options;
		report.raw_data.add_total_row = true;
		const data = options.data.filter((row) => !row.is_total_row);
		const dimension = report.get_filter_value("dimension");
		return Object.assign({}, options, {
			data,
			showTotalRow: true,
			hooks: Object.assign({}, options.hooks, {
				columnTotal(values, cell) {
					return win_loss_total(this, data, total, dimension)[cell.column.fieldname] ?? null;
				},
			}),
		});
	},
};

// the total of the rows the table shows: the server's when it shows them all
function win_loss_total(datatable, data, total, dimension) {
	const shown = datatable.bodyRenderer.visibleRowIndices || [];
	if (shown.length === data.length) return Object.assign({}, total, { grouped: null });
	if (dimension === "Competitor") return { won: "", won_amount: "", lost: "", lost_amount: "" };
	const sum = { won: 0, won_amount: 0, lost: 0, lost_amount: 0 };
	shown.forEach((i) => Object.keys(sum).forEach((key) => (sum[key] += flt(data[i][key]))));
	const closed = sum.won + sum.lost;
	const closed_amount = sum.won_amount + sum.lost_amount;
	sum.win_rate = closed ? (sum.won / closed) * 100 : "";
	sum.win_rate_amount = closed_amount ? (sum.won_amount / closed_amount) * 100 : "";
	return sum;
}
