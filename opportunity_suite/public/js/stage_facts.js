// Opportunity form: the Stage Facts section (its own HTML field, services/history.py) and the stale radar's
// snooze (services/stale.py). Self-contained: it renders into the `stage_facts` field wherever the layout
// puts it.
(() => {
	const escape = (value) => frappe.utils.escape_html(value == null ? "" : String(value));

	const fact = (label, value, attr) =>
		`<div class="col-sm-4 opportunity-stage-fact" data-fact="${attr}">
			<div class="text-muted small">${escape(label)}</div>
			<div class="stage-fact-value bold">${value}</div>
		</div>`;

	const render = (frm, facts) => {
		const field = frm.fields_dict.stage_facts;
		if (!field) return;
		const change = facts.amount_change;
		const sign = change > 0 ? "+" : "";
		const amount = `${sign}${escape(format_currency(change, facts.currency))}`;
		const pushes = facts.close_date_pushes
			? escape(__("{0} times, {1} days in all", [facts.close_date_pushes, facts.close_date_pushed_days]))
			: escape(__("Never"));
		let html = `<div class="row opportunity-stage-facts">
			${fact(__("Days in Current Stage"), escape(facts.days_in_stage), "days_in_stage")}
			${fact(__("Close Date Pushed"), pushes, "close_date_pushes")}
			${fact(__("Amount Change Since Creation"), amount, "amount_change")}
		</div>`;
		if (frm.doc.is_stale) {
			html += `<div class="mt-2 opportunity-stale-note"><span class="indicator-pill orange">${escape(
				__("Stale")
			)}</span> <span class="text-muted">${escape(frm.doc.stale_reason)}</span></div>`;
		}
		field.$wrapper.html(html);
	};

	const snooze = (frm) => {
		const dialog = new frappe.ui.Dialog({
			title: __("Snooze {0}", [frm.doc.opportunity_name]),
			fields: [
				{
					fieldname: "until",
					fieldtype: "Date",
					label: __("Snooze Until"),
					reqd: 1,
					default: frappe.datetime.add_days(frappe.datetime.get_today(), 7),
				},
				{ fieldname: "reason", fieldtype: "Small Text", label: __("Reason"), reqd: 1 },
			],
			primary_action_label: __("Snooze"),
			primary_action({ until, reason }) {
				frappe
					.call({
						method: "opportunity_suite.api.stale.snooze",
						type: "POST",
						args: { opportunity: frm.doc.name, until, reason },
						freeze: true,
					})
					.then(() => {
						dialog.hide();
						frm.reload_doc();
					});
			},
		});
		dialog.show();
	};

	frappe.ui.form.on("Opportunity", {
		refresh(frm) {
			const field = frm.fields_dict.stage_facts;
			if (frm.is_new() || !field) {
				if (field) field.$wrapper.empty();
				return;
			}
			frappe
				.call({
					method: "opportunity_suite.api.history.stage_facts",
					type: "GET",
					args: { opportunity: frm.doc.name },
				})
				.then(({ message }) => message && render(frm, message));
			if (frm.doc.status === "Open" && frm.perm[0] && frm.perm[0].write) {
				if (frm.doc.is_stale || frm.doc.snoozed_until) {
					frm.add_custom_button(__("Snooze"), () => snooze(frm), __("Stale"));
				}
			}
		},
	});
})();
