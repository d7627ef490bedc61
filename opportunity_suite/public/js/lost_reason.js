// A deal moved into a Lost stage is asked why, in a dialog (Loss Reason from the Lost Reason picklist, the
// detail in words): on the form when its stage is chosen, and on the Kanban board when a card dropped on a
// Lost column was refused for want of a reason (the save then goes through with the answer); on a save
// into a Lost stage still without one; and once for all the deals of a bulk edit of Sales Stage into a Lost
// stage (the list's Actions → Edit), each then saved with the answer (api/bulk.py mark_as_lost).
(function () {
// the list and the form both load this file: one object, one binding, one form handler
frappe.provide("opportunity_suite");
const opportunity_lost_reason = opportunity_suite.lost_reason || {
	lost_stages: null,

	stage_is_lost(stage) {
		const ask = () => (opportunity_lost_reason.lost_stages || []).includes(stage);
		if (opportunity_lost_reason.lost_stages) return Promise.resolve(ask());
		return frappe.db
			.get_list("Opportunity Stage", { filters: { stage_type: "Lost" }, pluck: "name", limit: 100 })
			.then((names) => {
				opportunity_lost_reason.lost_stages = names;
				return ask();
			});
	},

	// options: title (one deal's question by default), on_cancel (closed unanswered)
	ask(values, on_answer, options = {}) {
		const open = opportunity_lost_reason.dialog;
		if (open && !open.closed) return open; // one question at a time (display is set only once shown)
		let answered = false;
		const dialog = new frappe.ui.Dialog({
			title: options.title || __("Why was this deal lost?"),
			fields: [
				{
					fieldname: "loss_reason",
					fieldtype: "Link",
					options: "Lost Reason",
					label: __("Loss Reason"),
					reqd: 1,
					default: values.loss_reason,
					get_query: () => ({ filters: { disabled: 0 } }),
				},
				{
					fieldname: "lost_reason",
					fieldtype: "Small Text",
					label: __("Detail"),
					default: values.lost_reason,
				},
			],
			primary_action_label: __("Mark as Lost"),
			primary_action(answer) {
				answered = true;
				dialog.hide();
				on_answer(answer);
			},
		});
		dialog.onhide = () => {
			dialog.closed = true;
			if (!answered && options.on_cancel) options.on_cancel();
		};
		dialog.show();
		opportunity_lost_reason.dialog = dialog;
		return dialog;
	},

	// Frappe shows the server's refusal ("Missing Lost Reason") once its own handlers ran, maybe after
	// ours: take it away for a few seconds, the dialog asks instead
	hide_refusal() {
		const title = __("Missing Lost Reason");
		let ticks = 0;
		const timer = setInterval(() => {
			const message = frappe.msg_dialog;
			const shown = message && message.display && message.$wrapper;
			if (shown && message.$wrapper.find(".modal-title").text().trim() === title) {
				frappe.hide_msgprint(true);
			}
			if (++ticks >= 30) clearInterval(timer);
		}, 100);
	},

	// the Kanban board: Frappe reverts the card and shows the refusal; ask instead, then save the move
	bind_kanban() {
		if (opportunity_lost_reason._bound) return;
		opportunity_lost_reason._bound = true;
		$(document).ajaxError((_event, xhr, settings) => {
			const url = (settings && settings.url) || "";
			if (!url.includes("update_order_for_single_card")) return;
			const response = xhr.responseJSON || {};
			if (response.exc_type !== "MandatoryError") return;
			const args = new URLSearchParams(typeof settings.data === "string" ? settings.data : "");
			const name = args.get("docname");
			const stage = args.get("to_colname");
			if (!name || !stage) return;
			opportunity_lost_reason.stage_is_lost(stage).then((lost) => {
				if (!lost) return;
				opportunity_lost_reason.hide_refusal();
				opportunity_lost_reason.ask({}, (answer) => {
					frappe
						.xcall("frappe.client.set_value", {
							doctype: "Opportunity",
							name: name,
							fieldname: { sales_stage: stage, ...answer },
						})
						.then(() => {
							frappe.show_alert({ message: __("Marked as lost"), indicator: "red" });
							if (window.cur_list && cur_list.doctype === "Opportunity") {
								cur_list.last_args = null;
								cur_list.refresh();
							}
						});
				});
			});
		});
	},

	// the list's bulk edit of Sales Stage into a Lost stage: Frappe's update would save each deal without a
	// reason and fail them all (past 20 deals unseen, in the background). Its call is answered here instead:
	// the edit dialog closes, the question is asked once, each deal is saved with the stage and the answer.
	bind_bulk_edit() {
		if (opportunity_lost_reason._bulk_bound) return;
		opportunity_lost_reason._bulk_bound = true;
		const call = frappe.call;
		frappe.call = function (opts) {
			const args = (opts && opts.args) || {};
			const data = args.data;
			const stage = data && typeof data === "object" ? data.sales_stage : null;
			if (
				!opts ||
				opts.method !== "frappe.desk.doctype.bulk_update.bulk_update.submit_cancel_or_update_docs" ||
				args.doctype !== "Opportunity" ||
				args.action !== "update" ||
				!stage
			) {
				return call.apply(this, arguments);
			}
			const edit_dialog = window.cur_dialog;
			const given = arguments;
			return opportunity_lost_reason.stage_is_lost(stage).then((lost) => {
				if (!lost) return call.apply(this, given);
				opportunity_lost_reason.ask_for_many(args.docnames, stage, edit_dialog);
				return new Promise(() => {}); // Frappe's own handling of the answer never runs
			});
		};
	},

	ask_for_many(names, stage, edit_dialog) {
		const list = window.cur_list && cur_list.doctype === "Opportunity" ? cur_list : null;
		const done = () => {
			if (!list) return;
			list.disable_list_update = false; // as Frappe's edit leaves it when it is done
			list.clear_checked_items();
			list.refresh();
		};
		if (edit_dialog) edit_dialog.hide();
		opportunity_lost_reason.ask(
			{},
			(answer) =>
				frappe
					.call({
						method: "opportunity_suite.api.bulk.mark_as_lost",
						type: "POST",
						args: { names, sales_stage: stage, ...answer },
						freeze: true,
						freeze_message: __("Marking {0} opportunities as lost…", [names.length]),
					})
					.then(({ message }) => {
						opportunity_lost_reason.report_many(message);
						done();
					}),
			{
				title: __("Why were these {0} deals lost?", [names.length]),
				on_cancel: () => list && (list.disable_list_update = false),
			}
		);
	},

	report_many({ saved, failed }) {
		const text = __("{0} opportunities marked as lost.", [saved.length]);
		if (!failed.length) {
			frappe.show_alert({ message: text, indicator: "green" });
			return;
		}
		const escape = frappe.utils.escape_html;
		const rows = failed.map((f) => `<li>${escape(f.name)}: ${escape(f.reason)}</li>`).join("");
		frappe.msgprint({
			title: __("Mark as Lost"),
			message: `${escape(text)}<br>${escape(__("Not changed:"))}<ul>${rows}</ul>`,
			indicator: saved.length ? "orange" : "red",
		});
	},
};

opportunity_lost_reason.on_sales_stage =
	opportunity_lost_reason.on_sales_stage ||
	function (frm) {
		const stage = frm.doc.sales_stage;
		const answered = frm.opportunity_lost_reason_given; // the stage path asked before moving
		frm.opportunity_lost_reason_given = false;
		if (!stage || answered) return;
		opportunity_lost_reason.stage_is_lost(stage).then((lost) => {
			if (!lost || frm.doc.sales_stage !== stage) return;
			opportunity_lost_reason.ask(frm.doc, (answer) => frm.set_value(answer));
		});
	};
// saved into a Lost stage without a reason (the stage's dialog was closed, or the deal came lost without
// one): the save waits, the dialog asks, the answer is saved
opportunity_lost_reason.on_validate =
	opportunity_lost_reason.on_validate ||
	function (frm) {
		const stage = frm.doc.sales_stage;
		if (!stage || frm.doc.loss_reason || (frm.doc.lost_reason || "").trim()) return;
		return opportunity_lost_reason.stage_is_lost(stage).then((lost) => {
			if (!lost) return;
			frappe.validated = false;
			opportunity_lost_reason.ask(frm.doc, (answer) =>
				frm.set_value(answer).then(() => frm.save())
			);
		});
	};
opportunity_suite.lost_reason = opportunity_lost_reason;
opportunity_lost_reason.bind_kanban();
opportunity_lost_reason.bind_bulk_edit();
if (!opportunity_lost_reason._form_bound) {
	opportunity_lost_reason._form_bound = true; // Frappe wraps each handler: it can't be found again
	frappe.ui.form.on("Opportunity", {
		sales_stage: opportunity_lost_reason.on_sales_stage,
		validate: opportunity_lost_reason.on_validate,
	});
}
})();
