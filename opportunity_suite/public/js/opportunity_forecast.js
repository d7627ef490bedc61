// Probability and forecast as a person types, in the Opportunity form and its quick entry (loaded on every
// desk page: a quick entry opens from any Link field). The forecast comes from the server's rule
// (api/forecast.py), so the admin's formula has one copy.
frappe.provide("opportunity_suite.forecast");

opportunity_suite.forecast.FIELDS = ["amount", "probability", "sales_stage", "currency", "exchange_rate"];
opportunity_suite.forecast.CLOSED_PROBABILITY = { Won: 100, Lost: 0 }; // services/stages.py

// the stage's default probability and type
opportunity_suite.forecast.stage = async (stage) => {
	if (!stage) return null;
	const { message } = await frappe.db.get_value("Opportunity Stage", stage, ["default_probability", "stage_type"]);
	return message || null;
};

// the probability a chosen stage gives: a closed stage's certainty, else the stage's default unless the
// probability was typed (`manual`); undefined when it stays as it is
opportunity_suite.forecast.probability_for_stage = async (stage, manual) => {
	const info = await opportunity_suite.forecast.stage(stage);
	if (!info) return undefined;
	const closed = opportunity_suite.forecast.CLOSED_PROBABILITY[info.stage_type];
	if (closed !== undefined) return closed;
	return manual ? undefined : info.default_probability;
};

// { enabled, probability, forecast_amount } a save of these values would give
opportunity_suite.forecast.preview = async (doc) => {
	const values = {};
	for (const field of Object.keys(doc)) {
		if (!field.startsWith("_") && (typeof doc[field] !== "object" || doc[field] === null)) values[field] = doc[field];
	}
	const { message } = await frappe.call({
		method: "opportunity_suite.api.forecast.preview",
		type: "GET",
		args: { values },
	});
	return message;
};

frappe.ui.form.OpportunityQuickEntryForm = class OpportunityQuickEntryForm extends frappe.ui.form.QuickEntryForm {
	render_dialog() {
		super.render_dialog();
		const dialog = this.dialog;
		const on = (fieldname, handler) => {
			const field = dialog.fields_dict[fieldname];
			if (field) field.df.onchange = handler;
		};
		on("sales_stage", async () => {
			const probability = await opportunity_suite.forecast.probability_for_stage(
				dialog.get_value("sales_stage"),
				dialog.doc.probability_is_manual
			);
			if (probability === undefined) return;
			dialog._setting_stage_probability = true;
			await dialog.set_value("probability", probability);
			dialog._setting_stage_probability = false;
		});
		on("probability", () => {
			// a probability the user typed (a 0 too) is kept when the stage is chosen later (open stages)
			if (!dialog._setting_stage_probability) dialog.doc.probability_is_manual = 1;
		});
	}
};

// whether the forecast rule is on (asked once per page load)
opportunity_suite.forecast.rule_enabled = async () => {
	if (opportunity_suite.forecast._enabled === undefined) {
		opportunity_suite.forecast._enabled = opportunity_suite.forecast.preview({}).then((r) => !!(r && r.enabled));
	}
	return opportunity_suite.forecast._enabled;
};
