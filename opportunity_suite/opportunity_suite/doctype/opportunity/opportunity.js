// Opportunity form: stage → default probability (unless set by hand), disabled stages hidden; Convert to
// Project (shown to users who may convert: the primary button of a Won deal, else under Create; once
// converted, the project's link takes its place).
frappe.ui.form.on("Opportunity", {
	setup(frm) {
		frm.set_query("sales_stage", () => ({ filters: { disabled: 0 } }));
	},
	refresh(frm) {
		frm.trigger("toggle_exchange_rate");
		frm.trigger("show_forecast_rule");
		frm.trigger("show_conversion");
		frm.trigger("follow_sidebar_assignments");
		frm.trigger("lock_forecast_category");
	},
	// the forecast category is the owner's choice (its Assigned To, their managers, Sales Managers): read-only
	// for anyone else, who still moves it by changing the stage (the server refuses their override anyway)
	lock_forecast_category(frm) {
		const locked = !frm.is_new() && (frm.doc.__onload || {}).can_choose_forecast_category === false;
		for (const field of ["forecast_category", "forecast_category_is_manual"]) {
			frm.set_df_property(field, "read_only", locked ? 1 : 0);
		}
		frm.set_df_property(
			"forecast_category",
			"description",
			locked
				? __("Only the deal's owner (its Assigned To), their managers and Sales Managers may change it; it follows the stage.")
				: frappe.meta.get_docfield(frm.doctype, "forecast_category").description
		);
	},
	async show_conversion(frm) {
		if (frm.is_new()) return;
		const name = frm.doc.name;
		const { message: state } = await frappe.call({
			method: "opportunity_suite.api.conversion.can_convert",
			type: "GET",
			args: { opportunity: name },
		});
		if (!state || frm.doc.name !== name) return;
		if (state.project) {
			const link = `<a href="${frappe.utils.get_form_link("Project", state.project)}" class="converted-project">${frappe.utils.escape_html(state.project)}</a>`;
			frm.dashboard.set_headline(__("Converted to project {0}", [link]), "green");
			frm.add_custom_button(__("Project {0}", [state.project]), () => frappe.set_route("Form", "Project", state.project));
		} else if (state.can_convert && frm.doc.status === "Won") {
			// the next step of a won deal
			frm.add_custom_button(__("Convert to Project"), () => frm.trigger("convert_to_project")).addClass("btn-primary");
		} else if (state.can_convert) {
			// possible earlier (Opportunity Settings allow any stage), but not what an open deal is for
			frm.add_custom_button(__("Convert to Project"), () => frm.trigger("convert_to_project"), __("Create"));
		}
	},
	// the one way to make a project from the opportunity: this button, the connections' "+" for Project and
	// the Related list's Projects → Convert all come here (opportunity_records.js)
	async convert_to_project(frm) {
		if (frm.is_new()) return;
		const { message: state } = await frappe.call({
			method: "opportunity_suite.api.conversion.can_convert",
			type: "GET",
			args: { opportunity: frm.doc.name },
		});
		if (!state) return;
		if (state.project) {
			frappe.msgprint({
				title: __("Already Converted"),
				message: __("{0} is already converted to project {1}.", [
					frappe.utils.escape_html(frm.doc.opportunity_name || frm.doc.name),
					`<a href="${frappe.utils.get_form_link("Project", state.project)}">${frappe.utils.escape_html(state.project)}</a>`,
				]),
				indicator: "orange",
			});
			return;
		}
		if (!state.can_convert) {
			frappe.msgprint({ title: __("Cannot Convert"), message: frappe.utils.escape_html(state.reason), indicator: "red" });
			return;
		}
		frappe.confirm(
			__("Convert {0} into a project? Its quotes, sales orders, events, to-dos, files and comments go with it.", [
				frappe.utils.escape_html(frm.doc.opportunity_name || frm.doc.name),
			]),
			async () => {
				if (frm.is_dirty()) await frm.save();
				const { message: project } = await frappe.call({
					method: "opportunity_suite.api.conversion.convert_to_project",
					type: "POST",
					args: { opportunity: frm.doc.name },
					freeze: true,
					freeze_message: __("Converting..."),
				});
				if (!project) return;
				frappe.show_alert({ message: __("Converted to project {0}", [project]), indicator: "green" });
				await frm.reload_doc();
			}
		);
	},
	// Assign To in the sidebar changes assigned_to on the server (services/assignment.py): reload the
	// form then, so that it shows the new value and its next save isn't refused as stale.
	// with the forecast rule off (Opportunity Settings), the forecast shown is the one last computed
	async show_forecast_rule(frm) {
		const enabled = await opportunity_suite.forecast.rule_enabled();
		const note = enabled
			? ""
			: __("The forecast rule is off in Opportunity Settings: this is the value last computed, not kept up to date.");
		for (const field of ["forecast_amount", "base_forecast_amount"]) {
			frm.set_df_property(field, "description", note);
		}
		if (!enabled) frm.set_intro(__("The forecast rule is off: forecast amounts are not updated."), "orange");
	},
	follow_sidebar_assignments(frm) {
		const assign_to = frm.assign_to;
		if (!assign_to || assign_to._opportunity_follows) return;
		assign_to._opportunity_follows = true;
		// render() runs after every add and remove
		const render = assign_to.render.bind(assign_to);
		assign_to.render = (assignments) => {
			render(assignments);
			if (assign_to._opportunity_rendered) reload_if_changed(frm);
			assign_to._opportunity_rendered = true;
		};
	},
	currency(frm) {
		frm.trigger("toggle_exchange_rate");
		frm.trigger("preview_forecast");
	},
	async toggle_exchange_rate(frm) {
		const settings = await frappe.db.get_value("Opportunity Settings", null, "default_currency");
		const default_currency = (settings.message && settings.message.default_currency) || frappe.boot.sysdefaults.currency;
		frm.toggle_display("exchange_rate", !!frm.doc.currency && frm.doc.currency !== default_currency);
	},
	async sales_stage(frm) {
		// a closed stage is certain (Won 100 %, Lost 0 %); an open one gives its default unless typed
		const probability = await opportunity_suite.forecast.probability_for_stage(
			frm.doc.sales_stage,
			frm.doc.probability_is_manual
		);
		if (probability !== undefined && probability !== frm.doc.probability) {
			frm._setting_stage_probability = true;
			await frm.set_value("probability", probability);
			frm._setting_stage_probability = false;
		}
		frm.trigger("preview_forecast");
	},
	probability(frm) {
		// a probability the user typed, 0 included and before a stage is chosen, is kept when the stage
		// is chosen or changed later; a cleared one takes the stage's default again
		if (frm._setting_stage_probability) return;
		const value = frm.doc.probability;
		const typed = value !== null && value !== undefined && value !== "";
		if (typed && !frm.doc.probability_is_manual) frm.set_value("probability_is_manual", 1);
		else if (!typed && frm.doc.probability_is_manual) frm.set_value("probability_is_manual", 0);
		frm.trigger("preview_forecast");
	},
	amount(frm) {
		frm.trigger("preview_forecast");
	},
	exchange_rate(frm) {
		frm.trigger("preview_forecast");
	},
	// the forecast a save would give, shown before saving (the server's rule: api/forecast.py)
	async preview_forecast(frm) {
		const asked = (frm._forecast_preview = (frm._forecast_preview || 0) + 1);
		const result = await opportunity_suite.forecast.preview(frm.doc);
		if (!result || asked !== frm._forecast_preview) return; // a later change asked again
		if (!result.enabled) return;
		for (const field of ["forecast_amount", "base_forecast_amount"]) {
			if (frm.doc[field] !== result[field]) frm.set_value(field, result[field]);
		}
	},
	probability_is_manual(frm) {
		if (!frm.doc.probability_is_manual) frm.trigger("sales_stage");
	},
});

function reload_if_changed(frm) {
	if (frm.is_new() || frm.is_dirty()) return;
	frappe.db.get_value("Opportunity", frm.doc.name, "modified").then(({ message }) => {
		if (message && message.modified !== frm.doc.modified) frm.reload_doc();
	});
}
