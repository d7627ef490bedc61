const METHOD = "opportunity_suite.api.importing.";
// what the run reports after each batch (services/importing/runner.py: PROGRESS_FIELDS)
const PROGRESS_FIELDS = [
	"status",
	"total_rows",
	"rows_read",
	"created_count",
	"updated_count",
	"skipped_count",
	"failed_count",
];
const DONE = ["Completed", "Completed with Errors"];

frappe.ui.form.on("Opportunity Import", {
	setup(frm) {
		frappe.realtime.on("opportunity_import_refresh", (data) => {
			if (data.name === frm.doc.name) frm.reload_doc();
		});
		frappe.realtime.on("opportunity_import_progress", (data) => {
			if (data.name === frm.doc.name) show_run_state(frm, data);
		});
	},
	onload(frm) {
		offer_fields_by_label(frm);
	},
	refresh(frm) {
		offer_fields_by_label(frm);
		if (frm.is_new()) return;
		// what the form shows is saved first: a setting ticked before "Detect" or "Start" is kept
		const saved = () => (frm.is_dirty() ? frm.save() : Promise.resolve());
		const call = (method, args = {}) =>
			saved()
				.then(() =>
					frappe.call({
						method: METHOD + method,
						args: { import_name: frm.doc.name, ...args },
						freeze: true,
					})
				)
				.then((r) => {
					frm.reload_doc();
					return r;
				});
		if (["Pending", "Failed"].includes(frm.doc.status)) {
			frm.add_custom_button(__("Detect and Map Columns"), () => call("prepare_import"));
			frm.add_custom_button(__("Preview"), () =>
				saved()
					.then(() =>
						frappe.call({
							method: METHOD + "preview_import",
							args: { import_name: frm.doc.name },
							type: "GET",
							freeze: true,
						})
					)
					.then((r) => draw_preview(frm, r.message))
			);
			frm.add_custom_button(__("Start Import"), () => call("start_import")).addClass(
				"btn-primary"
			);
		}
		if (["Running", "Queued"].includes(frm.doc.status)) {
			draw_progress(frm);
			// Resume only a run that no live job carries on (a killed worker's)
			frappe
				.call({
					method: METHOD + "get_import_status",
					args: { import_name: frm.doc.name },
					type: "GET",
				})
				.then((r) => {
					const state = r.message || {};
					if (state.status === frm.doc.status && !state.job_alive) {
						frm.add_custom_button(__("Resume"), () => call("resume_import"));
					}
				});
		}
		if (DONE.includes(frm.doc.status)) draw_progress(frm);
		if (frm.doc.status === "Failed") {
			// a run that imported nothing is a failure, shown in red with what to do: never a green 100 %
			frm.dashboard.set_headline_alert(
				`${frappe.utils.escape_html(frm.doc.error || __("The import failed."))} ` +
					__("Fix the file (the failed rows file lists each row's reason), then start again."),
				"red"
			);
		}
		const download = (label, url) =>
			frm.add_custom_button(label, () => window.open(url), __("Download"));
		if (frm.doc.results_file) download(__("Results"), frm.doc.results_file);
		if (frm.doc.failed_rows_file) download(__("Failed Rows"), frm.doc.failed_rows_file);
		if ([...DONE, "Failed"].includes(frm.doc.status)) {
			frm.add_custom_button(__("Undo Import"), () =>
				frappe.confirm(
					__("Remove what this import created and restore what it changed?"),
					() => call("undo_import")
				)
			);
		}
		frm.add_custom_button(__("Save as Template"), () =>
			frappe.prompt(
				{
					fieldname: "template_name",
					fieldtype: "Data",
					label: __("Template Name"),
					reqd: 1,
				},
				(v) => call("save_as_template", v)
			)
		);
	},
});

function show_run_state(frm, state) {
	// the run's own fields, shown as they are in the database (not edits: the form stays clean)
	const status_changed = state.status !== frm.doc.status;
	PROGRESS_FIELDS.forEach((f) => (frm.doc[f] = state[f]));
	if (status_changed) {
		frm.refresh();
	} else {
		frm.refresh_fields(PROGRESS_FIELDS);
		draw_progress(frm);
	}
}

function draw_progress(frm) {
	const doc = frm.doc;
	if (!doc.total_rows) return;
	const count = (value) => format_number(value || 0, null, 0);
	const done = doc.rows_read || 0;
	let message = __("{0} of {1} rows", [count(done), count(doc.total_rows)]);
	if (done) {
		const counts = __("{0} created, {1} updated, {2} skipped, {3} failed", [
			count(doc.created_count),
			count(doc.updated_count),
			count(doc.skipped_count),
			count(doc.failed_count),
		]);
		message = `${message}: ${counts}`;
	}
	frm.dashboard.show_progress(__("Import"), (100 * done) / doc.total_rows, message);
}

function offer_fields_by_label(frm) {
	// the column map and the defaults choose an Opportunity field by its label; the fieldname is stored
	const options = (frm.doc.__onload || {}).importable_fields;
	if (!options) return;
	const labels = Object.fromEntries(options.map((o) => [o.value, o.label]));
	const choices = [{ value: "", label: "" }, ...options];
	const formatter = (value) => frappe.utils.escape_html(value ? labels[value] || value : "");
	[
		["columns", "fieldname"],
		["default_values", "fieldname"],
	].forEach(([table, fieldname]) => {
		const grid = frm.fields_dict[table] && frm.fields_dict[table].grid;
		if (!grid) return;
		grid.update_docfield_property(fieldname, "options", choices);
		grid.update_docfield_property(fieldname, "formatter", formatter);
		grid.refresh();
	});
}

function draw_preview(frm, preview) {
	// every value from the file or the server is escaped: a cell may hold HTML
	const esc = (value) => frappe.utils.escape_html(value == null ? "" : String(value));
	const status_colors = { created: "green", updated: "blue", skipped: "orange", failed: "red" };
	const head = [__("Row"), __("Outcome"), ...preview.columns.map((c) => c.label), __("Warnings or Error")]
		.map((label) => `<th>${esc(label)}</th>`)
		.join("");
	const body = preview.rows
		.map((row) => {
			// a cell a warning or error is about: marked, the message in its tooltip
			const mark_class = row.status === "failed" ? "text-danger" : "text-warning";
			const cells = preview.columns
				.map((c) => {
					const value = esc(row.values[c.fieldname]);
					const note = (row.cells || {})[c.fieldname];
					if (!note) return `<td data-fieldname="${esc(c.fieldname)}">${value}</td>`;
					return (
						`<td data-fieldname="${esc(c.fieldname)}" class="preview-cell-note" title="${esc(note)}">` +
						`<span class="preview-cell-mark ${mark_class}" aria-label="${esc(note)}">&#9888;</span> ` +
						`${value}</td>`
					);
				})
				.join("");
			const status = `<span class="indicator-pill ${status_colors[row.status] || "gray"}">${esc(
				__(frappe.utils.to_title_case(row.status))
			)}</span>`;
			return (
				`<tr data-row-no="${esc(row.row_no)}" data-status="${esc(row.status)}">` +
				`<td>${esc(row.row_no)}</td><td>${status}</td>${cells}` +
				`<td class="preview-message">${esc(row.message)}</td></tr>`
			);
		})
		.join("");
	const note = __("The first {0} rows as they will be stored. Nothing has been imported yet.", [
		preview.rows_shown,
	]);
	frm.fields_dict.preview_html.$wrapper.html(
		`<p class="text-muted small">${esc(note)}</p>` +
			`<div class="table-responsive"><table class="table table-bordered table-sm opportunity-import-preview">` +
			`<thead><tr>${head}</tr></thead><tbody>${body}</tbody></table></div>`
	);
}
