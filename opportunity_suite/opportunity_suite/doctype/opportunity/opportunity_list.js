// Opportunity list: stage indicator coloured by stage type, sidebar filters, saved filters for "me",
// and the app's bulk "Add Comment".
const OPPORTUNITY_CURRENT_USER = "__current_user__"; // services/list_views.py CURRENT_USER
const OPPORTUNITY_STAGE_COLOURS = { Open: "blue", Won: "green", Lost: "red" };

frappe.listview_settings["Opportunity"] = {
	add_fields: ["status", "sales_stage", "currency", "probability", "is_stale", "stale_reason"],
	// the row's title is the deal's name; its ID on the right would take the amounts' room
	hide_name_column: true,
	// the column titled "Status" shows the status; the stage has a column of its own (setup_columns)
	// Frappe puts the label into HTML and the filter into data-filter='…' as they are: both escaped
	// an open deal the stale radar flagged (services/stale.py) says "Stale" instead, and filters on it
	get_indicator(doc) {
		const escape = frappe.utils.escape_html;
		if (doc.status === "Open" && cint(doc.is_stale)) return [__("Stale"), "orange", "is_stale,=,1"];
		const colour = OPPORTUNITY_STAGE_COLOURS[doc.status] || "gray";
		return [escape(__(doc.status, null, "Opportunity")), colour, "status,=," + escape(doc.status)];
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
	// after every load of the Kanban board (and after a card moved): each column's totals
	refresh(listview) {
		if (listview.view_name !== "Kanban") return;
		opportunity_kanban.setup(listview);
		opportunity_kanban.load_totals(listview);
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
			if (name === "kanban_card" && data) data = opportunity_kanban.with_card_currency(data);
			if (name === "kanban_card" && data) data = opportunity_kanban.with_stale_badge(data);
			const html = render.call(this, name, data);
			// the Opportunity board's columns (rebuilt after each move) keep a place for their totals
			return name === "kanban_column" && data && data.doctype === "Opportunity"
				? opportunity_kanban.with_totals(html)
				: html;
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

// the Kanban board by stage: each column's count, total and weighted amount in the default currency
// (api/kanban.py, over the deals the user sees under the board's filters); a moved card's probability and
// forecast shown at once; won and lost columns narrow, the board's horizontal scrollbar always visible
const opportunity_kanban = {
	totals: null, // {currency, columns: {stage: {count, amount, forecast}}} of the last load

	setup(listview) {
		opportunity_kanban.add_styles();
		if (opportunity_kanban._moves_bound) return;
		opportunity_kanban._moves_bound = true;
		// Frappe's board saves a move by a call of its own and only moves the card: load the board again,
		// so the card shows the probability and forecast the save gave, and the totals follow
		$(document).ajaxSuccess((_event, _xhr, settings) => {
			const url = (settings && settings.url) || "";
			const moved = ["update_order_for_single_card", "kanban_board.add_card"].some((m) =>
				url.includes(m)
			);
			if (!moved || !window.cur_list || cur_list.doctype !== "Opportunity") return;
			if (cur_list.view_name !== "Kanban") return;
			cur_list.last_args = null; // Frappe skips a refresh with the same arguments within 3 s
			cur_list.refresh();
		});
	},

	load_totals(listview) {
		frappe
			.call({
				method: "opportunity_suite.api.kanban.column_totals",
				type: "GET",
				args: { filters: JSON.stringify(listview.get_filters_for_args()) },
			})
			.then(({ message }) => {
				opportunity_kanban.totals = message;
				opportunity_kanban.show_totals(listview.$result || $(document));
			});
	},

	show_totals($scope) {
		$scope.find(".kanban-column[data-column-value]").each(function () {
			const $column = $(this);
			const stage = $column.attr("data-column-value");
			$column.find(".opportunity-kanban-totals").replaceWith(opportunity_kanban.totals_html(stage));
			opportunity_kanban.mark_closed($column, stage);
		});
	},

	with_totals(html) {
		const $column = $(html);
		const stage = $column.attr("data-column-value");
		$column.find(".kanban-column-header").after(opportunity_kanban.totals_html(stage));
		opportunity_kanban.mark_closed($column, stage);
		return $column.prop("outerHTML");
	},

	totals_html(stage) {
		const escape = frappe.utils.escape_html;
		const totals = opportunity_kanban.totals;
		if (!totals) return `<div class="opportunity-kanban-totals text-muted small"></div>`;
		const column = (totals.columns || {})[stage] || { count: 0, amount: 0, forecast: 0 };
		const money = (value) => escape(format_currency(value, totals.currency));
		return `<div class="opportunity-kanban-totals text-muted small" data-count="${escape(
			String(column.count)
		)}">
			<span class="kanban-total-count" title="${escape(__("Opportunities"))}">${escape(
			String(column.count)
		)}</span> ·
			<span class="kanban-total-amount" title="${escape(__("Total Amount"))}">${money(
			column.amount
		)}</span><br>
			<span class="kanban-total-forecast" title="${escape(__("Weighted Amount"))}">${escape(
			__("Weighted")
		)}: ${money(column.forecast)}</span>
		</div>`;
	},

	// Frappe formats a card's fields without the card's document, so a deal in euros shows dollars: the
	// same fields (the board's, as Frappe lays them out) formatted with the deal's currency
	with_card_currency(data) {
		const list = window.cur_list;
		if (!list || list.doctype !== "Opportunity" || !list.board || !list.data) return data;
		const doc = list.data.find((d) => d.name === data.name);
		if (!doc || !doc.currency) return data;
		const escape = frappe.utils.escape_html;
		const doc_content = (list.board.fields || [])
			.map((fieldname) => {
				const df =
					frappe.meta.get_docfield("Opportunity", fieldname) || frappe.model.get_std_field(fieldname);
				if (!df) return "";
				const label = list.board.show_labels
					? `<span>${escape(__(df.label, null, df.parent))}: </span>`
					: "";
				const value = frappe.format(doc[fieldname], df, null, doc);
				return `<div class="text-muted text-truncate">${label}<span>${value}</span></div>`;
			})
			.join("");
		return Object.assign({}, data, { doc_content });
	},

	// a stale deal's card carries a badge (its reasons on hover), above its fields
	with_stale_badge(data) {
		const list = window.cur_list;
		if (!list || list.doctype !== "Opportunity" || !list.data) return data;
		const doc = list.data.find((d) => d.name === data.name);
		if (!doc || doc.status !== "Open" || !cint(doc.is_stale)) return data;
		const escape = frappe.utils.escape_html;
		const badge = `<div class="opportunity-stale-badge"><span class="indicator-pill orange" title="${escape(
			doc.stale_reason || ""
		)}">${escape(__("Stale"))}</span></div>`;
		return Object.assign({}, data, { doc_content: badge + (data.doc_content || "") });
	},

	// won and lost columns are narrower (their cards are the past), so the open stages fit the screen
	mark_closed($column, stage) {
		const type = (opportunity_kanban.stage_types || {})[stage];
		$column.toggleClass("opportunity-closed-column", type === "Won" || type === "Lost");
	},

	add_styles() {
		if (!opportunity_kanban.stage_types) {
			opportunity_kanban.stage_types = {};
			frappe.db
				.get_list("Opportunity Stage", { fields: ["name", "stage_type"], limit: 0 })
				.then((stages) => {
					stages.forEach((s) => (opportunity_kanban.stage_types[s.name] = s.stage_type));
					if (window.cur_list && cur_list.view_name === "Kanban" && cur_list.$result) {
						opportunity_kanban.show_totals(cur_list.$result);
					}
				});
		}
		if (document.getElementById("opportunity-kanban-styles")) return;
		const style = document.createElement("style");
		style.id = "opportunity-kanban-styles";
		style.textContent = `
			[data-page-route^="List/Opportunity/Kanban"] .kanban { overflow-x: scroll; scrollbar-width: auto;
				scrollbar-color: var(--gray-500) var(--gray-100); padding-bottom: var(--padding-sm); }
			[data-page-route^="List/Opportunity/Kanban"] .kanban::-webkit-scrollbar { display: block;
				height: 12px; }
			[data-page-route^="List/Opportunity/Kanban"] .kanban::-webkit-scrollbar-thumb {
				background: var(--gray-500); border-radius: 6px; }
			[data-page-route^="List/Opportunity/Kanban"] .kanban-column { flex: 0 0 220px; width: 220px;
				min-width: 220px; }
			[data-page-route^="List/Opportunity/Kanban"] .kanban-column.opportunity-closed-column {
				flex-basis: 160px; width: 160px; min-width: 160px; }
			[data-page-route^="List/Opportunity/Kanban"] .kanban-card-doc,
			[data-page-route^="List/Opportunity/Kanban"] .kanban-card-doc .text-truncate {
				white-space: normal; overflow: visible; text-overflow: clip; }
			.opportunity-kanban-totals { padding: 0 var(--padding-sm) var(--padding-xs); line-height: 1.5;
				min-height: 3em; box-sizing: content-box; }
			.opportunity-kanban-totals .kanban-total-amount,
			.opportunity-kanban-totals .kanban-total-count { font-weight: 600; color: var(--text-color); }`;
		document.head.appendChild(style);
	},
};

// this script loads with the list, report and Kanban views, before they render
opportunity_list.escape_kanban_titles();
opportunity_kanban.add_styles(); // before the board renders: no card moves under a person's mouse
