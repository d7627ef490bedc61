"""Writes the Vtiger export files of this folder, byte for byte as Vtiger's
`modules/Vtiger/actions/ExportData.php` writes an export of Potentials (read in Vtiger 7.1.x and 8.0.x;
see README.md). Run it from anywhere: `python tests/data/vtiger/make_exports.py`. The output is
deterministic; the tests read the committed files, this script says how they were made.

Vtiger 7.x `output()`:
    $header = implode("\\", \\"", $headers); $header = "\\"" . $header; $header .= "\\"\\r\\n";
    per row: each value's " doubled, then implode("\\",\\"", $row), wrapped in quotes, "\\r\\n".
Vtiger 8.x `output()`: fputcsv($fp, $headers); fputcsv($fp, $row) — PHP's fputcsv: `,`, `"` doubled,
a field enclosed only when it holds the delimiter, `"`, `\\`, a newline, CR, tab or space; lines end "\\n".

The values are what `sanitizeValues()` makes of the database's: references as `Module::::name`
(Accounts / Contacts / Campaigns), the owner as the user's login name (`getOwnerName`: user_name, or a
group's name), amounts unformatted (`convertToUserFormat(..., true, true)`: with or without the user's
truncate-trailing-zeros), probability through `decimalFormat`, dates in the user's format (yyyy-mm-dd),
picklist values untranslated."""

import pathlib
import random

HERE = pathlib.Path(__file__).parent

# the Potentials fields of a stock install, in the order of vtiger_field (DefaultDataPopulator, then the
# fields later versions added), as header keys; the label is what vtranslate() gives in each language
FIELDS = [
	("potentialname", "Opportunity Name", "销售机会名称"),
	("potential_no", "Opportunity Number", "销售机会编号"),
	("amount", "Amount", "金额"),
	("related_to", "Organization Name", "客户名称"),
	("closingdate", "Expected Close Date", "预计关闭日期"),
	("opportunity_type", "Type", "类型"),
	("nextstep", "Next Step", "下一步"),
	("leadsource", "Lead Source", "线索来源"),
	("sales_stage", "Sales Stage", "销售阶段"),
	("assigned_user_id", "Assigned To", "指派给"),
	("probability", "Probability", "成交概率"),
	("campaignid", "Campaign Source", "营销活动来源"),
	("createdtime", "Created Time", "创建时间"),
	("modifiedtime", "Modified Time", "修改时间"),
	("modifiedby", "Last Modified By", "最后修订者"),
	("description", "Description", "描述"),
	("contact_id", "Contact Name", "联系人姓名"),
	("forecast_amount", "Weighted Revenue", "预测总额(金额*成交概率)"),
	("isconvertedfromlead", "Is Converted From Lead", "是否由潜在客户转换而来"),
	("source", "Source", "来源"),
]
STAGES = [
	("Prospecting", 10),
	("Qualification", 20),
	("Needs Analysis", 25),
	("Value Proposition", 30),
	("Id. Decision Makers", 40),
	("Perception Analysis", 50),
	("Proposal/Price Quote", 65),
	("Negotiation/Review", 80),
	("Closed Won", 100),
	("Closed Lost", 0),
]
LEAD_SOURCES = [
	"",
	"Cold Call",
	"Existing Customer",
	"Self Generated",
	"Employee",
	"Partner",
	"Public Relations",
	"Direct Mail",
	"Conference",
	"Trade Show",
	"Web Site",
	"Word of mouth",
	"Other",
]
ORGANIZATIONS = [
	"Vtfix Acme Inc",
	"Vtfix Müller & Söhne GmbH",
	"Vtfix Nordlicht AB",
	"Vtfix 上海明珠贸易有限公司",
	"Vtfix O'Brien, Kelly & Partners",
	"Vtfix Café de Flore SARL",
	"Vtfix Zürich Versicherung",
]
CONTACTS = ["Vtfix Jane Roe", "Vtfix Élodie Martin", "Vtfix 王 小明"]
CAMPAIGNS = ["", "Spring Fair 2024", "Webinar: CRM migration"]
USERS = ["vtfix.anna", "vtfix.ben"]  # Vtiger login names; the tests create Frappe users with them


def rows(count: int, seed: int, truncate_zeros: bool) -> list[dict]:
	rng = random.Random(seed)
	out = []
	for number in range(1, count + 1):
		stage, default = STAGES[number % len(STAGES)]
		probability = default if number % 7 else 0  # some open deals at 0 %: a value, not "not given"
		amount = f"{rng.randint(1, 900) * 50 + (number % 4) * 0.25:.8f}"  # DECIMAL(25,8)
		if truncate_zeros:
			amount = amount.rstrip("0").rstrip(".")
		description = ""
		if number % 3 == 0:
			description = f'Line one of deal {number}, with "quotes"\nline two; ≥ 50 % sure'
		elif number % 5 == 0:
			description = "Übernahme des Altvertrags – 2. Phase"
		out.append(
			{
				"potentialname": f"Vtfix deal {number:03d} – {ORGANIZATIONS[number % len(ORGANIZATIONS)][6:]}",
				"potential_no": f"POT{number}",
				"amount": amount,
				"related_to": "Accounts::::" + ORGANIZATIONS[number % len(ORGANIZATIONS)],
				"closingdate": f"2025-{1 + number % 12:02d}-{1 + number % 28:02d}",
				"opportunity_type": ["", "New Business", "Existing Business"][number % 3],
				"nextstep": "" if number % 4 else "Call back, then send the quote",
				"leadsource": LEAD_SOURCES[number % len(LEAD_SOURCES)],
				"sales_stage": stage,
				"assigned_user_id": USERS[number % len(USERS)],
				"probability": f"{probability}",
				"campaignid": ("Campaigns::::" + CAMPAIGNS[number % 3]) if CAMPAIGNS[number % 3] else "",
				"createdtime": f"2024-{1 + number % 12:02d}-{1 + number % 28:02d} 09:{number % 60:02d}:00",
				"modifiedtime": f"2024-{1 + number % 12:02d}-{1 + number % 28:02d} 17:{number % 60:02d}:00",
				"modifiedby": USERS[(number + 1) % len(USERS)],
				"description": description,
				"contact_id": ("Contacts::::" + CONTACTS[number % 3]) if number % 2 else "",
				"forecast_amount": f"{float(amount) * probability / 100:.8f}",
				"isconvertedfromlead": "0" if number % 6 else "1",
				"source": "CRM",
			}
		)
	return out


def vtiger7(headers: list[str], records: list[dict]) -> bytes:
	lines = ['"' + '", "'.join(headers) + '"\r\n']
	for record in records:
		values = [record[key].replace('"', '""') for key, *_labels in FIELDS]
		lines.append('"' + '","'.join(values) + '"\r\n')
	return "".join(lines).encode("utf-8")


def _fputcsv_field(value: str) -> str:
	if any(c in value for c in ',"\\\n\r\t '):
		return '"' + value.replace('"', '""') + '"'
	return value


def vtiger8(headers: list[str], records: list[dict]) -> bytes:
	lines = [",".join(_fputcsv_field(h) for h in headers) + "\n"]
	for record in records:
		lines.append(",".join(_fputcsv_field(record[key]) for key, *_labels in FIELDS) + "\n")
	return "".join(lines).encode("utf-8")


def main():
	english = [label for _key, label, _zh in FIELDS]
	chinese = [zh for _key, _label, zh in FIELDS]
	(HERE / "vtiger7_potentials_en_us.csv").write_bytes(vtiger7(english, rows(200, 7, truncate_zeros=True)))
	(HERE / "vtiger8_potentials_en_us.csv").write_bytes(vtiger8(english, rows(200, 8, truncate_zeros=False)))
	(HERE / "vtiger7_potentials_zh_cn.csv").write_bytes(vtiger7(chinese, rows(20, 70, truncate_zeros=True)))
	groups = rows(3, 9, truncate_zeros=True)
	groups[1]["assigned_user_id"] = "Team Selling"  # a record a Vtiger group owns
	(HERE / "vtiger7_potentials_group_owner.csv").write_bytes(vtiger7(english, groups))


if __name__ == "__main__":
	main()
