// Opportunity form: stage → default probability (unless set by hand), disabled stages hidden.
frappe.ui.form.on("Opportunity", {
	setup(frm) {
		frm.set_query("sales_stage", () => ({ filters: { disabled: 0 } }));
	},
	refresh(frm) {
		frm.trigger("toggle_exchange_rate");
	},
	currency(frm) {
		frm.trigger("toggle_exchange_rate");
	},
	async toggle_exchange_rate(frm) {
		const settings = await frappe.db.get_value("Opportunity Settings", null, "default_currency");
		const default_currency = (settings.message && settings.message.default_currency) || frappe.boot.sysdefaults.currency;
		frm.toggle_display("exchange_rate", !!frm.doc.currency && frm.doc.currency !== default_currency);
	},
	async sales_stage(frm) {
		if (!frm.doc.sales_stage || frm.doc.probability_is_manual) return;
		const { message } = await frappe.db.get_value("Opportunity Stage", frm.doc.sales_stage, "default_probability");
		if (message) {
			frm._setting_stage_probability = true;
			await frm.set_value("probability", message.default_probability);
			frm._setting_stage_probability = false;
		}
	},
	probability(frm) {
		// a probability the user typed is kept when the stage changes later
		if (!frm._setting_stage_probability && frm.doc.sales_stage && !frm.doc.probability_is_manual) {
			frm.set_value("probability_is_manual", 1);
		}
	},
	probability_is_manual(frm) {
		if (!frm.doc.probability_is_manual) frm.trigger("sales_stage");
	},
});
