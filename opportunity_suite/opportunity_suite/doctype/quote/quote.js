// Quote form: make a sales order from it (lines: public/js/line_items.js).
frappe.ui.form.on("Quote", {
	setup(frm) {
		frm.make_methods = {
			"Sales Order": () =>
				frappe.model.open_mapped_doc({ method: "opportunity_suite.api.sales_documents.make_sales_order_from_quote", frm }),
		};
	},
	refresh(frm) {
		if (!frm.is_new() && frappe.model.can_create("Sales Order")) {
			frm.add_custom_button(__("Sales Order"), () => frm.make_methods["Sales Order"](), __("Create"));
		}
	},
});
