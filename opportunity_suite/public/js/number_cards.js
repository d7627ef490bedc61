// The app's number cards (Open Pipeline, Weighted Pipeline, Won This Quarter, Average Deal Size) read an
// amount compactly: "$ 4.2 M", "$ 128 K", "$ 950" (Frappe's card shortens the number but formats the
// short part as a full amount: "$ 128.00 K"). Other cards are unchanged.
(() => {
	const MODULE = "Opportunity Suite";
	const NumberCard = frappe.widget && frappe.widget.widget_factory && frappe.widget.widget_factory.number_card;
	if (!NumberCard) return;
	const set_formatted_number = NumberCard.prototype.set_formatted_number;

	NumberCard.prototype.set_formatted_number = function (df, doc) {
		const number = flt(this.number);
		if (!df || df.fieldtype !== "Currency" || (this.card_doc || {}).module !== MODULE) {
			return set_formatted_number.call(this, df, doc);
		}
		const [short, symbol = ""] = frappe.utils
			.shorten_number(number, frappe.sys_defaults.country, 4)
			.split(" ");
		// below a thousand: whole units; above: at most two decimals, without trailing zeros
		const value = symbol ? parseFloat(short) : Math.round(number);
		const decimals = symbol ? (String(value).split(".")[1] || "").length : 0;
		const formatted = frappe.format(value, { ...df, precision: decimals }, null, doc);
		this.formatted_number = ($(formatted).text() || formatted) + (symbol ? " " + __(symbol) : "");
	};
})();
