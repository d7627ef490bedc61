// A Link field whose suggestions the app filters (active products only, open stages, the app's records in
// the Alert Rule form, Organizations and Leads in a Contact's links) ends Frappe's list of suggestions with
// a line such as "Filters applied for Is Active = 1, Module = Opportunity Suite, Is Child Table = No":
// field names, codes and operators, not what a person reads. For the app's fields the line is left out
// (the suggestions are what may be chosen); a field that says in words what it offers
// (df.filter_description) keeps its sentence, and Frappe's other forms are unchanged.
(() => {
	const Link = frappe.ui.form.ControlLink;
	const get_filter_description = Link.prototype.get_filter_description;
	// forms outside the app whose link filters are the app's (public/js/contact.js)
	const FORMS_WITH_APP_FILTERS = ["Contact"];

	const is_apps = (doctype) =>
		!!doctype &&
		((frappe.boot.opportunity_suite_doctypes || []).includes(doctype) ||
			FORMS_WITH_APP_FILTERS.includes(doctype));

	Link.prototype.get_filter_description = function (filters) {
		const target = this.get_options && this.get_options();
		const form = this.frm && this.frm.doctype;
		const parent = this.df && this.df.parent;
		if (is_apps(target) || is_apps(form) || is_apps(parent)) return null;
		return get_filter_description.call(this, filters);
	};
})();
