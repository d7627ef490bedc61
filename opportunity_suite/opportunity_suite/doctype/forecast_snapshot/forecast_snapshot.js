// Forecast Snapshot: frozen, never saved again (the list has "Take Snapshot Now")
frappe.ui.form.on("Forecast Snapshot", {
	refresh(frm) {
		frm.disable_save();
	},
});
