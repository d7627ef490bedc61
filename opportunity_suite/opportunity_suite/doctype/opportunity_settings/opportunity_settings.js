const RECOMPUTE_INDICATORS = {
	Queued: "orange",
	Running: "blue",
	Interrupted: "red",
	Completed: "green",
	Stopped: "gray",
	Failed: "red",
};

frappe.ui.form.on("Opportunity Settings", {
	refresh(frm) {
		frm.set_intro(
			__("Changing the formula, or turning the forecast back on, recomputes every opportunity in the background."),
			"blue"
		);
		const status = frm.doc.last_recompute_status;
		if (status && RECOMPUTE_INDICATORS[status]) {
			const counts = __("{0} of {1} opportunities checked, {2} updated", [
				frm.doc.recompute_done || 0,
				frm.doc.recompute_total || 0,
				frm.doc.last_recompute_rows || 0,
			]);
			const note =
				status === "Interrupted"
					? " " + __("Its worker stopped; it resumes from where it was within a few minutes.")
					: "";
			frm.dashboard.set_headline_alert(
				`<div class="indicator ${RECOMPUTE_INDICATORS[status]}">${frappe.utils.escape_html(
					__("Recompute: {0}", [__(status)])
				)} · ${frappe.utils.escape_html(counts + note)}</div>`
			);
		}
	},
});
