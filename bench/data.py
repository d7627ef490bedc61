"""Realistic import files for the benchmarks: opportunities as a CRM export would have them, and vCards."""

import csv
import random

STAGES = [
	"Prospecting",
	"Qualification",
	"Needs Analysis",
	"Value Proposition",
	"Id. Decision Makers",
	"Perception Analysis",
	"Proposal/Price Quote",
	"Negotiation/Review",
	"Closed Won",
]
SOURCES = [
	"Cold Call",
	"Existing Customer",
	"Self Generated",
	"Partner",
	"Conference",
	"Trade Show",
	"Web Site",
]
WORDS = "alpha beta gamma delta omega nova prime apex summit vertex orbit zenith harbor pioneer atlas".split()
COMPANIES = [
	f"{a.title()} {b.title()} {c}" for a in WORDS for b in WORDS for c in ("Ltd", "GmbH", "Inc", "SA")
]
FIRST = "Anna Bruno Carla Dieter Emma Felix Greta Hugo Ines Jonas Klara Lukas Mia Noah Olga Paul".split()
LAST = "Meyer Rossi Dubois Novak Silva Jensen Kowalski Fischer Garcia Moreau Becker Costa".split()

HEADER = [
	"Opportunity Name",
	"Amount",
	"Currency",
	"Sales Stage",
	"Expected Close Date",
	"Probability (%)",
	"Type",
	"Lead Source",
	"Campaign",
	"Next Step",
	"Assigned To",
	"Description",
]


def write_csv(
	path: str, rows: int, seed: int = 42, assigned_to: str = "Administrator", description_tag: str = ""
):
	rnd = random.Random(seed)
	with open(path, "w", newline="", encoding="utf-8") as f:
		writer = csv.writer(f)
		writer.writerow(HEADER)
		for i in range(rows):
			company = rnd.choice(COMPANIES)
			writer.writerow(
				[
					f"{company} – {rnd.choice(WORDS).title()} deal {i}",
					f"{rnd.randint(1, 900) * 250:,}.{rnd.randint(0, 99):02d}",
					"",
					rnd.choice(STAGES),
					f"2027-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}",
					rnd.choice(["", "", "", str(rnd.randint(5, 95))]),
					rnd.choice(["New Business", "Existing Business", ""]),
					rnd.choice(SOURCES),
					rnd.choice(["", "Spring Promo 2027", "Partner Summit", "Webinar Q3"]),
					rnd.choice(["Call back", "Send proposal", "Demo scheduled", ""]),
					assigned_to,
					f"Imported from the {rnd.choice(WORDS)} list; contact {rnd.choice(FIRST)} {rnd.choice(LAST)}. {description_tag}",
				]
			)


def write_vcf(path: str, cards: int, seed: int = 7, email_tag: str = ""):
	rnd = random.Random(seed)
	with open(path, "w", newline="", encoding="utf-8") as f:
		for i in range(cards):
			first, last = rnd.choice(FIRST), rnd.choice(LAST)
			company = rnd.choice(COMPANIES)
			f.write(
				"BEGIN:VCARD\r\nVERSION:3.0\r\n"
				f"N:{last};{first};;;\r\nFN:{first} {last}\r\nORG:{company};Sales\r\n"
				f"TITLE:Buyer\r\nitem1.TEL;TYPE=WORK:+49 30 {rnd.randint(1000000, 9999999)}\r\n"
				f"TEL;TYPE=CELL:+49 170 {rnd.randint(1000000, 9999999)}\r\n"
				f"EMAIL;TYPE=INTERNET:{first.lower()}.{last.lower()}.{i}{email_tag}@example.com\r\n"
				"NOTE:Met at the trade show\\, wants a call back\\nin spring\r\n"
				"END:VCARD\r\n"
			)
