// Product and service lines (Line Item) of Opportunity, Quote and Sales Order: rate from the item's unit
// price, amount = qty × rate, total (or the opportunity's amount when it comes from the lines).
// Loaded through hooks.doctype_js into each of those forms; registers its handlers once per page.
(() => {
	frappe.provide("opportunity_suite");
	if (opportunity_suite.line_items) return;

	const TITLE_FIELDS = { Product: "product_name", Service: "service_name" };
	const PARENTS = ["Opportunity", "Quote", "Sales Order"];

	const update_total = (frm) => {
		const total = (frm.doc.items || []).reduce((sum, row) => sum + flt(row.amount), 0);
		if (frm.fields_dict.total) {
			frm.set_value("total", total);
		} else if (frm.doc.amount_from_items) {
			frm.set_value("amount", total);
		}
	};

	const update_amount = (frm, cdt, cdn) => {
		const row = locals[cdt][cdn];
		frappe.model.set_value(cdt, cdn, "amount", flt(row.qty) * flt(row.rate));
		update_total(frm);
	};

	opportunity_suite.line_items = { update_total };

	frappe.ui.form.on("Line Item", {
		item_type(frm, cdt, cdn) {
			frappe.model.set_value(cdt, cdn, { item: null, item_name: null });
		},
		async item(frm, cdt, cdn) {
			const row = locals[cdt][cdn];
			if (!row.item || !TITLE_FIELDS[row.item_type]) return;
			const { message } = await frappe.db.get_value(row.item_type, row.item, [
				TITLE_FIELDS[row.item_type],
				"unit_price",
			]);
			if (!message) return;
			await frappe.model.set_value(cdt, cdn, {
				item_name: message[TITLE_FIELDS[row.item_type]],
				rate: message.unit_price,
			});
			update_amount(frm, cdt, cdn);
		},
		qty: update_amount,
		rate: update_amount,
	});

	for (const doctype of PARENTS) {
		frappe.ui.form.on(doctype, {
			setup(frm) {
				// only active products and services can be added
				frm.set_query("item", "items", () => ({ filters: { is_active: 1 } }));
			},
			items_remove: update_total,
			amount_from_items: update_total,
		});
	}
})();
