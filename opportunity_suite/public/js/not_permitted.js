// The desk answers "Page alert-rule not found" when a user opens a DocType they may not read (its route
// is unknown to them, so the desk looks for a Page of that name). For the app's DocTypes
// (frappe.boot.opportunity_suite_doctypes, services/desk.py), say that they are not permitted instead.
(() => {
	const show = frappe.views.pageview.show;
	frappe.views.pageview.show = function (name) {
		const doctype = (frappe.boot.opportunity_suite_doctypes || []).find(
			(candidate) => frappe.router.slug(candidate) === name
		);
		if (!doctype || frappe.model.can_read(doctype)) return show.apply(this, arguments);
		frappe.show_message_page({
			page_name: name,
			message: __("You are not permitted to open {0}.", [frappe.utils.escape_html(__(doctype))]),
			img: "/assets/frappe/images/ui/bubble-tea-sorry.svg",
		});
	};
})();
