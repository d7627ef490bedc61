"""Column headers other systems export, one table per language: `labels/<language>.py` holds `LABELS`, a
dict of header → Opportunity fieldname, or None for a column that is offered as ignored (something the
app computes itself or has no field for). A translator adds a language by copying `en_us.py` to the new
language's code and translating its keys; nothing else needs to change.

The tables are Vtiger's (its Potentials module) in the wording of its language files: Vtiger exports
headers in the exporting user's language, `vtranslate(label, "Potentials")`, which looks in
`languages/<lang>/Potentials.php` and then `languages/<lang>/Vtiger.php`."""

import importlib
import pkgutil
from functools import cache


@cache
def tables() -> dict[str, dict[str, str | None]]:
	"""language → its table, for every module of this package."""
	out = {}
	for module in pkgutil.iter_modules(__path__):
		out[module.name] = importlib.import_module(f"{__name__}.{module.name}").LABELS
	return out


@cache
def header_lookup(normalise) -> dict[str, str | None]:
	"""normalised header → fieldname (None: ignore), over every language; the first table naming a
	header wins (en_us first, then the others in alphabetical order)."""
	out: dict[str, str | None] = {}
	languages = sorted(tables(), key=lambda code: (code != "en_us", code))
	for language in languages:
		for header, fieldname in tables()[language].items():
			out.setdefault(normalise(header), fieldname)
	return out
