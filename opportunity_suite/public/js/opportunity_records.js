// Opportunity form: contacts offered from the organization, quotes / sales orders made from the opportunity
// and its conversion to a project, and the related lists with their counts
// (opportunity_suite.api.related.get_related): the one place for every related kind, below the deal's
// fields (the form leads with the deal), its counts following comments, files and to-dos as they are added.
(() => {
	frappe.provide("opportunity_suite.deal_page");

	const METHODS = {
		Quote: "opportunity_suite.api.sales_documents.make_quote",
		"Sales Order": "opportunity_suite.api.sales_documents.make_sales_order",
	};

	const contact_query = (frm) =>
		frm.doc.organization
			? {
					query: "frappe.contacts.doctype.contact.contact.contact_query",
					filters: { link_doctype: "Organization", link_name: frm.doc.organization },
			  }
			: {};

	// "Create a new Contact" from the contact fields: a quick entry (contact_quick_entry.js) keeping the typed
	// name, the contact linked to the opportunity's organization
	const contact_route_options = (frm) => () =>
		frm.doc.organization
			? {
					[opportunity_suite.contact_entry.LINK_OPTION]: {
						link_doctype: "Organization",
						link_name: frm.doc.organization,
						title: frappe.utils.get_link_title("Organization", frm.doc.organization),
					},
			  }
			: {};

	const open_list = (spec, extra = {}) => {
		const options = {};
		for (const [doctype, fieldname, operator, value] of spec.filters) {
			const key = doctype === spec.doctype ? fieldname : `${doctype}.${fieldname}`;
			options[key] = operator === "=" ? value : [operator, value];
		}
		frappe.route_options = Object.assign(options, extra);
		frappe.set_route("List", spec.doctype);
	};

	// in a dialog over the deal (opportunity_activities.js)
	const new_event = (frm) => opportunity_suite.deal_page.new_event(frm);
	const new_todo = (frm) => opportunity_suite.deal_page.new_todo(frm);

	// a project is made from an opportunity only by converting it (opportunity.js: convert_to_project), never
	// as a bare linked Project, which would make the real conversion answer "already converted"
	const convert_to_project = (frm) => frm.trigger("convert_to_project");

	const add_line = (frm, fieldname, values = {}) => {
		const row = frm.add_child(fieldname, values);
		frm.refresh_field(fieldname);
		frm.scroll_to_field(fieldname);
		return row;
	};

	const to_timeline = (frm) => frm.timeline && frm.timeline.wrapper && frappe.utils.scroll_to(frm.timeline.wrapper);

	// key, label, count(counts), actions: [label, handler(frm, related)]
	const ROWS = [
		["comments", __("Comments"), (c) => c.comments, [
			[__("View"), (frm) => to_timeline(frm)],
			[__("Add"), (frm) => frm.comment_box && frm.comment_box.comment_wrapper && frappe.utils.scroll_to(frm.comment_box.comment_wrapper)],
		]],
		["emails", __("Emails"), (c) => c.emails, [
			[__("View"), (frm) => to_timeline(frm)],
			[__("New Email"), (frm) => frm.email_doc()],
		]],
		["activities", __("Activities"), (c) => c.activities, [
			[__("Events"), (frm, r) => open_list(r.lists.events, { status: "Open" })],
			[__("To Dos"), (frm, r) => open_list(r.lists.todos, { status: "Open" })],
			[__("New Event"), (frm) => new_event(frm)],
			[__("New To Do"), (frm) => new_todo(frm)],
		]],
		["activity_history", __("Activity History"), (c) => c.activity_history, [
			[__("Events"), (frm, r) => open_list(r.lists.events, { status: ["in", ["Completed", "Closed"]] })],
			[__("To Dos"), (frm, r) => open_list(r.lists.todos, { status: "Closed" })],
			[__("Changes"), (frm) => to_timeline(frm)],
		]],
		["contacts", __("Contacts"), (c) => c.contacts, [
			[__("View"), (frm, r) => open_list(r.lists.contacts)],
			[__("Add"), (frm) => add_line(frm, "contacts")],
		]],
		["products", __("Products"), (c) => c.products, [
			[__("View"), (frm, r) => open_list(r.lists.products)],
			[__("Add"), (frm) => add_line(frm, "items", { item_type: "Product" })],
		]],
		["services", __("Services"), (c) => c.services, [
			[__("View"), (frm, r) => open_list(r.lists.services)],
			[__("Add"), (frm) => add_line(frm, "items", { item_type: "Service" })],
		]],
		["documents", __("Documents"), (c) => c.documents, [
			[__("View"), (frm, r) => open_list(r.lists.documents)],
			[__("Attach"), (frm) => frm.attachments.new_attachment()],
		]],
		["quotes", __("Quotes"), (c) => c.quotes, [
			[__("View"), (frm, r) => open_list(r.lists.quotes)],
			[__("New"), (frm) => frappe.model.open_mapped_doc({ method: METHODS.Quote, frm })],
		]],
		["sales_orders", __("Sales Orders"), (c) => c.sales_orders, [
			[__("View"), (frm, r) => open_list(r.lists.sales_orders)],
			[__("New"), (frm) => frappe.model.open_mapped_doc({ method: METHODS["Sales Order"], frm })],
		]],
		["projects", __("Projects"), (c) => c.projects, [
			[__("View"), (frm, r) => open_list(r.lists.projects)],
			[__("Convert"), (frm) => convert_to_project(frm)],
		]],
	];

	const render_related = async (frm) => {
		if (frm.is_new()) return;
		const { message: related } = await frappe.call({
			method: "opportunity_suite.api.related.get_related",
			args: { opportunity: frm.doc.name },
		});
		if (!related || frm.doc.name !== related_name(related)) return;
		// the whole section: two refreshes in a row (a save does that) must not leave an empty one behind
		frm.dashboard.parent.find(".opportunity-related-section").remove();
		const rows = ROWS.map(([key, label, count, actions]) => {
			const buttons = actions
				.map(([text], i) => `<button class="btn btn-xs btn-default" data-key="${key}" data-action="${i}">${text}</button>`)
				.join(" ");
			return `<tr data-related="${key}"><td>${label}</td>
				<td><span class="badge related-count">${cint(count(related.counts))}</span></td>
				<td class="text-right">${buttons}</td></tr>`;
		}).join("");
		const body = frm.dashboard.add_section(
			`<table class="table table-condensed opportunity-related"><tbody>${rows}</tbody></table>`,
			__("Related"),
			"custom opportunity-related-section"
		);
		body.on("click", "button[data-key]", (event) => {
			const button = $(event.currentTarget);
			const row = ROWS.find(([key]) => key === button.data("key"));
			row[3][cint(button.data("action"))][1](frm, related);
		});
		frm.dashboard.show();
	};

	// the lists' filters carry the opportunity's name: ignore an answer for a form since navigated away
	const related_name = (related) => related.lists.quotes.filters[0][3];

	// the counts again, in place: after a comment, a file, a to-do or an event is added
	const refresh_counts = frappe.utils.debounce(async (frm) => {
		if (frm.is_new() || !frm.dashboard.parent.find(".opportunity-related").length) return;
		const name = frm.doc.name;
		const { message: counts } = await frappe.call({
			method: "opportunity_suite.api.related.get_related_counts",
			type: "GET",
			args: { opportunity: name },
		});
		if (!counts || frm.doc.name !== name) return;
		for (const [key, , count] of ROWS) {
			frm.dashboard.parent.find(`[data-related='${key}'] .related-count`).text(cint(count(counts)));
		}
	}, 300);
	opportunity_suite.deal_page.refresh_related_counts = refresh_counts;

	// the deal's fields first: Frappe puts the dashboard (the related lists) above them, it goes below
	const place_below_fields = (frm) => {
		const page = frm.layout.wrapper.find(".form-page").first();
		if (!page.children().last().is(frm.dashboard.parent)) page.append(frm.dashboard.parent);
	};

	// a comment added in the timeline asks the sidebar to count comments again: the related list does too
	const follow_comments = (frm) => {
		const sidebar = frm.sidebar;
		if (!sidebar || sidebar._opportunity_counts) return;
		sidebar._opportunity_counts = true;
		const own = sidebar.refresh_comments_count && sidebar.refresh_comments_count.bind(sidebar);
		sidebar.refresh_comments_count = (...args) => {
			if (own) own(...args);
			refresh_counts(frm);
		};
	};

	frappe.ui.form.on("Opportunity", {
		setup(frm) {
			frm.set_query("contact", () => contact_query(frm));
			frm.set_query("contact", "contacts", () => contact_query(frm));
			frm.make_methods = {
				Quote: () => frappe.model.open_mapped_doc({ method: METHODS.Quote, frm }),
				"Sales Order": () => frappe.model.open_mapped_doc({ method: METHODS["Sales Order"], frm }),
				Project: () => convert_to_project(frm),
			};
			// the connections' "+" for Project: only while the opportunity is not converted
			frm.can_make_methods = { Project: () => !frm.doc.project };
		},
		refresh(frm) {
			// the form's docfields are copies per document: set on each refresh
			frm.fields_dict.contact.df.get_route_options_for_new_doc = contact_route_options(frm);
			frm.get_docfield("contacts", "contact").get_route_options_for_new_doc = contact_route_options(frm);
			place_below_fields(frm);
			follow_comments(frm);
			if (frm.is_new()) return;
			if (frappe.model.can_create("Quote")) {
				frm.add_custom_button(__("Quote"), () => frm.make_methods.Quote(), __("Create"));
			}
			if (frappe.model.can_create("Sales Order")) {
				frm.add_custom_button(__("Sales Order"), () => frm.make_methods["Sales Order"](), __("Create"));
			}
			render_related(frm);
		},
		// files attached or removed, assignments made: Frappe reloads the timeline
		timeline_refresh(frm) {
			refresh_counts(frm);
		},
	});
})();
