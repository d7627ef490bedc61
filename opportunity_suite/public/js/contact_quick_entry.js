// "Create a new Contact" from a Link field opens a quick entry instead of the full Contact form (Frappe's
// Contact has no quick entry): the name typed in the field is kept (first word → First Name, the rest →
// Last Name), and a form that says which record the contact belongs to (route option `__link`, e.g. the
// opportunity's organization) gets it as the contact's link. Saved through Frappe's save; the calling
// field takes the new contact.
frappe.provide("opportunity_suite.contact_entry");

// { link_doctype, link_name, title } of the record the contact belongs to, from the calling form
opportunity_suite.contact_entry.LINK_OPTION = "__link";

frappe.ui.form.ContactQuickEntryForm = class ContactQuickEntryForm extends frappe.ui.form.QuickEntryForm {
	constructor(...args) {
		super(...args);
		// the route options are read (and cleared) when the new doc is made: keep the link now
		const options = frappe.route_options || {};
		this.contact_link = options[opportunity_suite.contact_entry.LINK_OPTION] || null;
	}

	is_quick_entry() {
		return true;
	}

	set_meta_and_mandatory_fields() {
		this.meta = frappe.get_meta(this.doctype);
		const link = this.contact_link;
		this.mandatory = [
			{ fieldname: "first_name", fieldtype: "Data", label: __("First Name"), reqd: 1 },
			{ fieldname: "last_name", fieldtype: "Data", label: __("Last Name") },
			{ fieldname: "designation", fieldtype: "Data", label: __("Designation") },
			{ fieldname: "column_break", fieldtype: "Column Break" },
			{ fieldname: "email", fieldtype: "Data", options: "Email", label: __("Email Address") },
			{ fieldname: "phone", fieldtype: "Data", options: "Phone", label: __("Phone") },
			{ fieldname: "mobile", fieldtype: "Data", options: "Phone", label: __("Mobile No") },
		];
		if (link) {
			this.mandatory.push(
				{ fieldname: "section_link", fieldtype: "Section Break" },
				{
					fieldname: "link_note",
					fieldtype: "HTML",
					options: `<p class="text-muted small contact-link-note">${__("Linked to {0} {1}", [
						__(link.link_doctype),
						frappe.utils.escape_html(link.title || link.link_name),
					])}</p>`,
				}
			);
		}
	}

	check_quick_entry_doc() {
		super.check_quick_entry_doc();
		// Contact's title field (full_name) holds what was typed in the Link field
		const typed = (this.doc.full_name || "").trim();
		if (typed && !this.doc.first_name) {
			const [first, ...rest] = typed.split(/\s+/);
			this.doc.first_name = first;
			this.doc.last_name = rest.join(" ");
		}
		delete this.doc.full_name;
		if (this.contact_link && this.contact_link.link_doctype === "Organization" && !this.doc.company_name) {
			this.doc.company_name = this.contact_link.title || this.contact_link.link_name;
		}
	}

	update_doc() {
		const doc = super.update_doc();
		const { email, phone, mobile } = this.dialog.get_values(true);
		for (const key of ["email", "phone", "mobile", "link_note", "column_break", "section_link"]) delete doc[key];
		// Contact keeps addresses and numbers in its tables (its validate takes the primary ones from there)
		doc.email_ids = email ? [{ email_id: email, is_primary: 1 }] : [];
		doc.phone_nos = [
			...(phone ? [{ phone, is_primary_phone: 1 }] : []),
			...(mobile ? [{ phone: mobile, is_primary_mobile_no: 1 }] : []),
		];
		const link = this.contact_link;
		doc.links = link ? [{ link_doctype: link.link_doctype, link_name: link.link_name }] : doc.links || [];
		return doc;
	}
};
