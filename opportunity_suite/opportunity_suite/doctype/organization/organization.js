// Organization form: Frappe's addresses and contacts linked to it (duplicate warning: public/js/duplicates.js).
frappe.ui.form.on("Organization", {
	refresh(frm) {
		frappe.dynamic_link = { doc: frm.doc, fieldname: "name", doctype: "Organization" };
		if (frm.is_new()) {
			frappe.contacts.clear_address_and_contact(frm);
		} else {
			frappe.contacts.render_address_and_contact(frm);
		}
	},
});
