// Organization and Lead forms: before saving, warn about an existing record with the same name / email
// (trimmed, any case) and link it; "Save Anyway" saves with ignore_duplicate. The server refuses the
// duplicate too (quick entry, REST), so this is the friendly path, not the guard.
(() => {
	frappe.provide("opportunity_suite");
	if (opportunity_suite.check_duplicates) return;

	const FIELDS = { Organization: "organization_name", Lead: "email_id" };

	opportunity_suite.check_duplicates = async (frm) => {
		const fieldname = FIELDS[frm.doctype];
		const value = (frm.doc[fieldname] || "").trim();
		if (!value || frm.doc.ignore_duplicate) return;
		if (!frm.is_new() && value.toLowerCase() === (frm._saved_duplicate_value || "").toLowerCase()) return;
		const { message } = await frappe.call({
			method: "opportunity_suite.api.duplicates.get_duplicates",
			args: { doctype: frm.doctype, value, name: frm.is_new() ? null : frm.doc.name },
		});
		if (!message || !message.length) return;
		frappe.validated = false;
		const label = __(frappe.meta.get_label(frm.doctype, fieldname));
		const links = message
			.map((d) =>
				d.name
					? `<li><a href="${frappe.utils.get_form_link(frm.doctype, d.name)}">${frappe.utils.escape_html(d.title)}</a></li>`
					: `<li>${frappe.utils.escape_html(d.title)}</li>`
			)
			.join("");
		const dialog = new frappe.ui.Dialog({
			title: __("Possible Duplicate"),
			fields: [
				{
					fieldtype: "HTML",
					fieldname: "existing",
					options: `<p>${__("{0} with the same {1} already exists:", [__(frm.doctype), label])}</p><ul class="duplicate-records">${links}</ul>`,
				},
			],
			primary_action_label: __("Save Anyway"),
			primary_action() {
				dialog.hide();
				frm.doc.ignore_duplicate = 1;
				frm.save();
			},
		});
		dialog.show();
	};

	for (const doctype of Object.keys(FIELDS)) {
		frappe.ui.form.on(doctype, {
			refresh(frm) {
				frm._saved_duplicate_value = frm.is_new() ? "" : frm.doc[FIELDS[doctype]] || "";
			},
			validate(frm) {
				return opportunity_suite.check_duplicates(frm);
			},
		});
	}
})();
