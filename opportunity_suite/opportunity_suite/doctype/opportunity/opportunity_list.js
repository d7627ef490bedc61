// Opportunity list: stage indicator coloured by stage type, sidebar filters, saved filters for "me",
// and the app's bulk "Add Comment".
const OPPORTUNITY_CURRENT_USER = "__current_user__"; // services/list_views.py CURRENT_USER
const OPPORTUNITY_STAGE_COLOURS = { Open: "blue", Won: "green", Lost: "red" };

frappe.listview_settings["Opportunity"] = {
	add_fields: ["status", "sales_stage", "currency", "probability"],
	// the row's title is the deal's name; its ID on the right would take the amounts' room
	hide_name_column: true,
	// the column titled "Status" shows the status; the stage has a column of its own (setup_columns)
	// Frappe puts the label into HTML and the filter into data-filter='…' as they are: both escaped
	get_indicator(doc) {
		const colour = OPPORTUNITY_STAGE_COLOURS[doc.status] || "gray";
		const escape = frappe.utils.escape_html;
		return [escape(__(doc.status)), colour, "status,=," + escape(doc.status)];
	},
	// with the forecast rule off (Opportunity Settings) the list says its forecasts are not kept up to date
	formatters: {
		forecast_amount(value, df, doc) {
			const shown = frappe.format(value, df, { inline: true }, doc);
			if (opportunity_list.forecast_rule_on !== false) return shown;
			const note = frappe.utils.escape_html(__("Forecast rule off: not updated"));
			return `<span class="text-muted forecast-rule-off" title="${note}">${shown} *</span>`;
		},
	},
	onload(listview) {
		opportunity_suite.forecast.rule_enabled().then((enabled) => {
			opportunity_list.forecast_rule_on = enabled;
			if (enabled) return;
			listview.page.set_indicator(__("Forecast rule off: forecasts are not updated"), "orange");
			listview.refresh();
		});
		if (listview.view_name === "List") {
			opportunity_list.setup_columns(listview);
			opportunity_list.show_quick_entries_at_once(listview);
		}
		opportunity_list.setup_sidebar_filters(listview);
		opportunity_list.setup_saved_filters_for_me(listview);
		if (frappe.model.can_read("Opportunity")) {
			listview.page.add_actions_menu_item(__("Add Comment"), () =>
				opportunity_list.bulk_add_comment(listview)
			);
		}
	},
};

// the list's columns are shipped in List View Settings (services/list_views.py); these are their titles
const OPPORTUNITY_LIST_LABELS = { sales_stage: __("Stage") };

const opportunity_list = {
	// short titles for the list's columns, whichever columns the list shows
	setup_columns(listview) {
		const setup = listview.setup_columns.bind(listview);
		listview.setup_columns = () => {
			setup();
			listview.columns = listview.columns.map((col) => {
				const label = col.type === "Field" && col.df && OPPORTUNITY_LIST_LABELS[col.df.fieldname];
				return label ? Object.assign({}, col, { df: Object.assign({}, col.df, { label }) }) : col;
			});
		};
		listview.setup_columns();
		listview.render_header(true);
		opportunity_list.add_column_widths();
	},

	// amounts never cut: their columns (header and rows alike) are as wide as "$ 1,200,000.00"
	add_column_widths() {
		if (document.getElementById("opportunity-list-widths")) return;
		const style = document.createElement("style");
		style.id = "opportunity-list-widths";
		style.textContent = `[data-page-route="List/Opportunity/List"] .list-row-col.text-right {
			flex: 0 0 7.5rem; }`;
		document.head.appendChild(style);
	},

	// Frappe's quick entry on a list waits for a realtime event to show the new deal (none without
	// socketio) and merges it by sorting raw values: fetch the list's page again, in its own sort order
	show_quick_entries_at_once(listview) {
		listview.make_new_doc = () => {
			const options = {};
			listview.filter_area.get().forEach((f) => {
				if (f[2] === "=" && frappe.model.is_non_std_field(f[1])) options[f[1]] = f[3];
			});
			frappe.route_options = options;
			frappe.model.with_doctype("Opportunity", () => {
				frappe.ui.form.make_quick_entry("Opportunity", () => {
					if (cur_list !== listview) return;
					listview.last_args = null; // Frappe skips a refresh with the same filters within 3 s
					listview.refresh();
				});
			});
		};
	},

	// Frappe's Kanban templates put a card's title (the opportunity's name, decoded from HTML) and a
	// column's title into HTML and attributes unescaped: escape them before they render
	escape_kanban_titles() {
		if (frappe.render_template._opportunity_escapes) return;
		const render = frappe.render_template;
		frappe.render_template = function (name, data) {
			if ((name === "kanban_card" || name === "kanban_column") && data && data.title != null) {
				data = Object.assign({}, data, { title: frappe.utils.escape_html(String(data.title)) });
			}
			return render.call(this, name, data);
		};
		frappe.render_template._opportunity_escapes = true;
	},

	// sidebar: stage and organization (once the field exists) besides Assigned To and Created By,
	// unless the user chose their own
	setup_sidebar_filters(listview) {
		const group_by = listview.list_sidebar && listview.list_sidebar.list_group_by;
		if (!group_by || frappe.get_user_settings("Opportunity").group_by_fields) return;
		const extra = ["sales_stage", "organization"].filter((f) => frappe.meta.has_field("Opportunity", f));
		group_by.group_by_fields = ["assigned_to", "owner", ...extra];
		group_by.render_group_by_items();
		group_by.setup_dropdown();
	},

	// a shipped saved filter may say "the current user" (My open opportunities)
	setup_saved_filters_for_me(listview) {
		const list_filter = listview.list_sidebar && listview.list_sidebar.list_filter;
		if (!list_filter) return;
		const get_values = list_filter.get_filters_values.bind(list_filter);
		list_filter.get_filters_values = (name) =>
			get_values(name).map((f) =>
				f.map((v) => (v === OPPORTUNITY_CURRENT_USER ? frappe.session.user : v))
			);
	},

	bulk_add_comment(listview) {
		const names = listview.get_checked_items(true);
		if (!names.length) {
			frappe.msgprint(__("Select the opportunities to comment on first."));
			return;
		}
		const dialog = new frappe.ui.Dialog({
			title: __("Add a comment to {0} opportunities", [names.length]),
			fields: [{ fieldname: "comment", fieldtype: "Text Editor", label: __("Comment"), reqd: 1 }],
			primary_action_label: __("Add Comment"),
			primary_action({ comment }) {
				frappe
					.call({
						method: "opportunity_suite.api.bulk.add_comment",
						type: "POST",
						args: { names, comment },
						freeze: true,
					})
					.then(({ message }) => {
						dialog.hide();
						let text = __("Comment added to {0} opportunities.", [message.added]);
						if (message.skipped.length) {
							const rows = message.skipped
								.map(
									(s) =>
										`<li>${frappe.utils.escape_html(s.name)}: ${frappe.utils.escape_html(
											s.reason
										)}</li>`
								)
								.join("");
							text += `<br>${__("Skipped:")}<ul>${rows}</ul>`;
							frappe.msgprint({ title: __("Add Comment"), message: text, indicator: "orange" });
						} else {
							frappe.show_alert({ message: text, indicator: "green" });
						}
						listview.clear_checked_items();
						listview.refresh();
					});
			},
		});
		dialog.show();
	},
};

// this script loads with the list, report and Kanban views, before they render
opportunity_list.escape_kanban_titles();
