frappe.ui.form.on("Opportunity Settings", {
	refresh(frm) {
		frm.set_intro(
			__("Changing the formula, or turning the forecast back on, recomputes every opportunity in the background."),
			"blue"
		);
	},
});
