"""Vtiger's Potentials export headers in English (en_us; Vtiger 7.x and 8.x): `languages/en_us/Potentials.php`
first, then `languages/en_us/Vtiger.php`. Header → Opportunity fieldname; None: offered as ignored."""

LABELS = {
	"Opportunity Name": "opportunity_name",  # Potential Name
	"Organization Name": "organization",  # Related To (Accounts::::name)
	"Related To": "organization",
	"Contact Name": "contact",  # Contacts::::first last
	"Amount": "amount",
	"Type": "opportunity_type",
	"Expected Close Date": "expected_close_date",
	"Lead Source": "lead_source",
	"Next Step": "next_step",
	"Assigned To": "assigned_to",  # a user's login name, or a group's name
	"Sales Stage": "sales_stage",
	"Campaign Source": "campaign",  # Campaigns::::name
	"Probability": "probability",
	"Description": "description",
	"Lost Reason": "lost_reason",  # not in a stock Vtiger; a common custom field
	"Competitor": "competitors",  # not in Vtiger: other CRMs' exports, hand-made sheets
	# Vtiger's own bookkeeping, or computed here: offered as ignored
	"Opportunity Number": None,  # Potential No (POT123)
	"Weighted Revenue": None,  # Forecast Amount: recomputed from amount and probability
	"Forecast Amount": None,
	"Created Time": None,
	"Modified Time": None,
	"Last Modified By": None,
	"Is Converted From Lead": None,
	"Source": None,  # CRM, WEBSERVICE, IMPORT: how the record was made in Vtiger
	"Tags": None,
	"starred": None,
	"tags": None,
}
