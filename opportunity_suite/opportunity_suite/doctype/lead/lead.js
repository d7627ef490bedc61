// Lead form: Convert Lead (organization + contact + opportunity in one transaction) and a link to the
// opportunity it became. Duplicate warning on the email: public/js/duplicates.js.
frappe.ui.form.on("Lead", {
	setup(frm) {
		// the connections' "+ Opportunity" converts the lead rather than making an unrelated opportunity
		frm.make_methods = { Opportunity: () => frm.trigger("convert_lead") };
	},
	refresh(frm) {
		if (frm.is_new()) return;
		if (frm.doc.opportunity) {
			frm.add_custom_button(__("Opportunity"), () => frappe.set_route("Form", "Opportunity", frm.doc.opportunity), __("View"));
			return;
		}
		if (frm.doc.status !== "Junk" && frm.perm[0] && frm.perm[0].write && frappe.model.can_create("Opportunity")) {
			frm.add_custom_button(__("Convert Lead"), () => frm.trigger("convert_lead")).addClass("btn-primary");
		}
	},
	async convert_lead(frm) {
		if (frm.is_dirty()) await frm.save();
		const person = [frm.doc.first_name, frm.doc.last_name].filter(Boolean).join(" ");
		const dialog = new frappe.ui.Dialog({
			title: __("Convert Lead"),
			fields: [
				{
					fieldname: "opportunity_name",
					fieldtype: "Data",
					label: __("Opportunity Name"),
					default: frm.doc.company_name || person,
					reqd: 1,
				},
				{
					fieldname: "sales_stage",
					fieldtype: "Link",
					options: "Opportunity Stage",
					label: __("Sales Stage"),
					get_query: () => ({ filters: { disabled: 0, stage_type: "Open" } }),
				},
				{ fieldname: "column_break", fieldtype: "Column Break" },
				{
					fieldname: "expected_close_date",
					fieldtype: "Date",
					label: __("Expected Close Date"),
					default: frappe.datetime.add_days(frappe.datetime.get_today(), 30),
				},
				{ fieldname: "amount", fieldtype: "Currency", label: __("Amount") },
				{
					fieldname: "note",
					fieldtype: "HTML",
					options: `<p class="text-muted small">${__(
						"Creates the organization (or reuses one with the same name), the contact (or reuses one with the same email) and the opportunity."
					)}</p>`,
				},
			],
			primary_action_label: __("Convert"),
			async primary_action(values) {
				const args = { lead: frm.doc.name, ...values };
				if (!values.amount) delete args.amount;
				const { message } = await frappe.call({
					method: "opportunity_suite.api.lead.convert_lead",
					type: "POST",
					args,
					freeze: true,
					freeze_message: __("Converting..."),
				});
				dialog.hide();
				if (message) {
					frappe.show_alert({ message: __("Converted to {0}", [message]), indicator: "green" });
					frappe.set_route("Form", "Opportunity", message);
				}
			},
		});
		dialog.show();
	},
});
