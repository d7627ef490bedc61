// A Select's value shown read-only (a form's read-only field, a list or report cell) in the words of its
// DocType: Frappe's Select control translates its options with the DocType as context (`__(option, null,
// doctype)`), its formatter without one, so a read-only Status read "开" where the control says "进行中".
// `__` with a context falls back to the plain translation: other DocTypes read as before.
(() => {
	const plain = frappe.form.formatters.Select;
	frappe.form.formatters.Select = function (value, df, options, doc) {
		const doctype = df && df.parent;
		if (!doctype || typeof value !== "string" || !value) return plain(value, df, options, doc);
		return __(frappe.form.formatters.Data(value, df), null, doctype);
	};
})();
