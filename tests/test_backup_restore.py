"""Backups a user can trust: the scheduled backup scripts/setup writes (a cron line running
`bench --site … backup --with-files`) is run as cron would run it, and scripts/restore puts that backup into
a new site: the same opportunities (count, amounts, forecasts) and the same private file, readable.
The restore skips its migrate here (`--no-migrate`: the backup is of this very code)."""

import json
import os
import pwd
import subprocess
from pathlib import Path

import frappe
import pytest
from frappe.utils import add_days, today

from tests.conftest import BENCH_DIR, SITE
from tests.factories import unique
from tests.production_stack import APP_DIR, scripts

pytestmark = [pytest.mark.slow, pytest.mark.production]

_TOTALS = """
import json, sys
import frappe
frappe.init(site=sys.argv[1], sites_path=".")
frappe.connect()
row = frappe.db.sql("SELECT COUNT(*), SUM(amount), SUM(forecast_amount) FROM `tabOpportunity`")[0]
file = frappe.get_doc("File", {"file_url": sys.argv[2]})
print(json.dumps({"totals": [int(row[0]), float(row[1] or 0), float(row[2] or 0)],
	"file": frappe.safe_decode(file.get_content())}))
frappe.destroy()
"""


def _totals(site: str, file_url: str) -> dict:
	result = subprocess.run(
		[str(BENCH_DIR / "env" / "bin" / "python"), "-c", _TOTALS, site, file_url],
		cwd=BENCH_DIR / "sites",
		capture_output=True,
		text=True,
		timeout=120,
	)
	assert result.returncode == 0, result.stdout + result.stderr
	return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture
def committed_deals():
	tag = unique("Backup deal")
	names = []
	for i, amount in enumerate((1234.5, 99_000, 0.25)):
		doc = frappe.get_doc(
			{
				"doctype": "Opportunity",
				"opportunity_name": f"{tag} {i}",
				"amount": amount,
				"sales_stage": "Qualification",
				"expected_close_date": add_days(today(), 30),
			}
		).insert()
		names.append(doc.name)
	file = frappe.get_doc(
		{
			"doctype": "File",
			"file_name": f"{tag}.txt".replace(" ", "_"),
			"content": f"contract of {tag}",
			"is_private": 1,
			"attached_to_doctype": "Opportunity",
			"attached_to_name": names[0],
		}
	).insert()
	frappe.db.commit()
	yield tag, file.file_url
	frappe.db.rollback()
	frappe.delete_doc("File", file.name, force=True, ignore_permissions=True)
	for name in names:
		frappe.delete_doc("Opportunity", name, force=True, ignore_permissions=True)
	frappe.db.commit()


@pytest.fixture
def restored_site():
	site = f"restored-{frappe.generate_hash(length=6).lower()}.localhost"
	yield site
	scripts(
		f'ensure_db_admin; bench_do drop-site "{site}" --force --no-backup --root-login "$DB_ROOT_USER" '
		'--root-password "$DB_ROOT_PASSWORD" >/dev/null 2>&1 || true',
		BENCH_DIR,
	)


def _scheduled_backup_command() -> str:
	"""The command of the cron line scripts/setup writes for the site (written, read, removed here)."""
	written = scripts(
		f'ensure_backup_schedule "{SITE}"; echo "/etc/cron.d/$(production_group "{SITE}")"', BENCH_DIR
	)
	assert written.returncode == 0, written.stdout + written.stderr
	cron_file = Path(written.stdout.strip().splitlines()[-1])
	try:
		lines = [line for line in cron_file.read_text().splitlines() if line and not line.startswith("#")]
	finally:
		scripts(f'remove_backup_schedule "{SITE}"', BENCH_DIR)
	assert not cron_file.exists()
	path_line, job = lines
	assert path_line.startswith("PATH=")
	fields = job.split(None, 6)
	assert fields[:5] == ["17", "*/6", "*", "*", "*"] and fields[5] == pwd.getpwuid(os.getuid()).pw_name
	return path_line, fields[6]


def test_a_scheduled_backup_restores_into_a_new_site_with_the_same_deals(committed_deals, restored_site):
	tag, file_url = committed_deals
	backups = BENCH_DIR / "sites" / SITE / "private" / "backups"
	before = set(backups.glob("*")) if backups.exists() else set()
	original = _totals(SITE, file_url)
	assert original["file"] == f"contract of {tag}"

	# the backup, as cron runs it: its PATH, its command, through a shell
	path_line, command = _scheduled_backup_command()
	env = {**os.environ, "PATH": path_line.removeprefix("PATH=")}
	ran = subprocess.run(["sh", "-c", command], env=env, capture_output=True, text=True, timeout=600)
	assert ran.returncode == 0, ran.stdout + ran.stderr
	made = sorted(set(backups.glob("*")) - before)
	try:
		kinds = sorted(p.name.split("-", 2)[-1] for p in made)
		assert kinds == ["database.sql.gz", "files.tar", "private-files.tar", "site_config_backup.json"], made
		[database] = [p for p in made if p.name.endswith("-database.sql.gz")]

		restored = subprocess.run(
			[str(APP_DIR / "scripts" / "restore"), str(database), restored_site, "--no-migrate"],
			env={**os.environ, "OS_BENCH_DIR": str(BENCH_DIR)},
			capture_output=True,
			text=True,
			timeout=900,
		)
		assert restored.returncode == 0, restored.stdout + restored.stderr
		assert _totals(restored_site, file_url) == original
		# the backup's encryption key came along: the restored site reads what the original encrypted
		config = json.loads((BENCH_DIR / "sites" / restored_site / "site_config.json").read_text())
		assert config["encryption_key"] == frappe.conf.encryption_key
	finally:
		for path in made:
			path.unlink()
