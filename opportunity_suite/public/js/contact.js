// Frappe's Contact form: its links point at Organizations and Leads (services/contacts.py refuses the
// app's other DocTypes; an opportunity reaches its contacts through its own fields).
frappe.ui.form.on("Contact", {
	setup(frm) {
		frm.set_query("link_doctype", "links", () => ({
			filters: { name: ["in", ["Organization", "Lead"]] },
		}));
	},
});
