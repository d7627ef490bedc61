// Opportunity form: the stage path above the fields — the open stages in their order with the current one
// marked, then the closed ones (Won, Lost). A click moves the deal through the form's normal save, so
// permissions, the lost-reason rule and Won → 100 % / Lost → 0 % (services/stages.apply_stage) apply.
(() => {
	frappe.provide("opportunity_suite.deal_page");

	frappe.dom.set_style(
		`
		.opportunity-stage-path { display: flex; align-items: stretch; gap: 4px; margin: var(--margin-sm, 8px) 0 var(--margin-md, 12px); }
		.opportunity-stage-path .stage-group { display: flex; align-items: stretch; flex: 1 1 auto; min-width: 0; gap: 2px; }
		.opportunity-stage-path .stage-group.closed { flex: 0 0 auto; margin-left: var(--margin-md, 12px); }
		.opportunity-stage-path .stage-step {
			flex: 1 1 auto; padding: 4px 6px; border: none; border-radius: var(--border-radius-sm, 4px);
			background: var(--control-bg, #f3f3f3); color: var(--text-muted, #666); font-size: var(--text-sm, 12px);
			text-align: center; line-height: 16px;
		}
		.opportunity-stage-path .closed .stage-step { flex: 0 0 auto; }
		.opportunity-stage-path .stage-step.done { background: var(--blue-100, #d6e9ff); color: var(--blue-700, #1b5fb0); }
		.opportunity-stage-path .stage-step.current { background: var(--blue-500, #2490ef); color: #fff; font-weight: 600; }
		.opportunity-stage-path .stage-step.current.won { background: var(--green-500, #29a745); }
		.opportunity-stage-path .stage-step.current.lost { background: var(--red-500, #e24c4c); }
		.opportunity-stage-path button.stage-step:not(.current):hover { background: var(--gray-300, #ddd); color: var(--text-color, #333); }
		.opportunity-stage-path span.stage-step { cursor: default; }
		`,
		"opportunity-stage-path"
	);

	// every stage, disabled ones too (a deal may still be in one), in the stages' order
	const load_stages = async () => {
		const stages = await frappe.db.get_list("Opportunity Stage", {
			fields: ["name", "stage_type", "disabled", "default_probability"],
			order_by: "sequence asc, name asc",
			limit: 500,
		});
		return stages || [];
	};

	// whether this user may change the deal's stage: the field is writable for their roles, and the server
	// (record visibility, shares: Opportunity.onload) says they may write this deal
	const may_move = (frm) => {
		const df = frappe.meta.get_docfield(frm.doctype, "sales_stage", frm.doc.name);
		const can_write = !frm.doc.__onload || frm.doc.__onload.can_write !== false;
		return !frm.is_new() && can_write && frappe.perm.get_field_display_status(df, frm.doc, frm.perm) === "Write";
	};

	const step = (frm, stage, index, current_index, clickable) => {
		const is_current = stage.name === frm.doc.sales_stage;
		const classes = ["stage-step", frappe.scrub(stage.stage_type)];
		if (is_current) classes.push("current");
		else if (stage.stage_type === "Open" && current_index >= 0 && index < current_index) classes.push("done");
		const title =
			stage.stage_type === "Open"
				? __("{0}: default probability {1} %", [stage.name, stage.default_probability])
				: __("{0}: probability {1} %", [stage.name, stage.stage_type === "Won" ? 100 : 0]);
		const $step = $(clickable && !is_current ? `<button type="button">` : "<span>")
			.addClass(classes.join(" "))
			.attr("title", title)
			.attr("data-stage", stage.name)
			.text(stage.name);
		if (is_current) $step.attr("aria-current", "step");
		if (clickable && !is_current) $step.on("click", () => opportunity_suite.deal_page.move_to_stage(frm, stage));
		return $step;
	};

	opportunity_suite.deal_page.render_stage_path = async (frm) => {
		if (frm.is_new()) {
			frm.layout.wrapper.find(".opportunity-stage-path").remove();
			return;
		}
		const name = frm.doc.name;
		const stages = await load_stages();
		if (frm.doc.name !== name) return; // navigated away meanwhile
		const shown = stages.filter((s) => !s.disabled || s.name === frm.doc.sales_stage);
		const open = shown.filter((s) => s.stage_type === "Open");
		const closed = shown.filter((s) => s.stage_type !== "Open");
		const clickable = may_move(frm);
		const current_index = open.findIndex((s) => s.name === frm.doc.sales_stage);
		const closed_now = closed.some((s) => s.name === frm.doc.sales_stage);
		// a closed deal went through every open stage
		const reached = closed_now ? open.length : current_index;
		const $path = $(`<div class="opportunity-stage-path" role="group">`).attr("aria-label", __("Sales Stage"));
		const $open = $(`<div class="stage-group open">`).appendTo($path);
		open.forEach((s, i) => $open.append(step(frm, s, i, reached, clickable)));
		const $closed = $(`<div class="stage-group closed">`).appendTo($path);
		closed.forEach((s, i) => $closed.append(step(frm, s, i, -1, clickable)));
		const page = frm.layout.wrapper.find(".form-page").first();
		page.find(".opportunity-stage-path").remove();
		page.prepend($path);
	};

	// the lost-reason question is the one the form asks when a Lost stage is chosen (public/js/lost_reason.js:
	// the Lost Reason picklist and the detail); answered with null when the dialog is closed unanswered
	const ask_lost_reason = (frm) =>
		new Promise((resolve) => {
			const dialog = opportunity_suite.lost_reason.ask(frm.doc, (answer) => resolve(answer));
			const onhide = dialog.onhide;
			dialog.onhide = () => {
				if (onhide) onhide();
				setTimeout(() => resolve(null)); // after the answer, which the dialog hands over as it hides
			};
		});

	const confirm = (message) => new Promise((resolve) => frappe.confirm(message, () => resolve(true), () => resolve(false)));

	const KEPT = ["sales_stage", "loss_reason", "lost_reason", "probability", "probability_is_manual", "forecast_amount", "base_forecast_amount"];

	// set the stage (and a lost reason when the stage needs one) and save the form as a person would; a save
	// the server refuses (permissions, a rule, a stale form) puts the form back as it was
	opportunity_suite.deal_page.move_to_stage = async (frm, stage) => {
		if (stage.name === frm.doc.sales_stage) return;
		const was_dirty = frm.is_dirty();
		if (was_dirty && !(await confirm(__("Save your other changes too and move to {0}?", [frappe.utils.escape_html(stage.name)])))) {
			return;
		}
		let lost_reason = null;
		if (stage.stage_type === "Lost" && !frm.doc.loss_reason && !(frm.doc.lost_reason || "").trim()) {
			lost_reason = await ask_lost_reason(frm);
			if (!lost_reason) return;
		}
		const before = Object.fromEntries(KEPT.map((f) => [f, frm.doc[f]]));
		const put_back = () => {
			if (was_dirty) {
				Object.assign(frm.doc, before);
				frm.refresh_fields();
			} else {
				frm.reload_doc();
			}
		};
		if (lost_reason) await frm.set_value(lost_reason);
		frm.opportunity_lost_reason_given = true; // the form's own question is answered already
		await frm.set_value("sales_stage", stage.name);
		await frm.save("Save", null, null, put_back);
	};

	frappe.ui.form.on("Opportunity", {
		refresh(frm) {
			opportunity_suite.deal_page.render_stage_path(frm);
		},
	});
})();
