"""The readers' former home, kept for code that imports from it: the formats now live in `formats/`
(a registry, one module per format); text encodings in `formats/text.py`, CSV in `formats/csv_format.py`,
XLSX in `formats/xlsx_format.py`, VCF in `formats/vcf_format.py`."""

from opportunity_suite.services.importing.formats import (  # noqa: F401
	FileFormat,
	ImportFileError,
	RowShapeError,
	check_row_shape,
	file_kind,
	file_path,
)
from opportunity_suite.services.importing.formats import open_file as FileRows  # noqa: F401
from opportunity_suite.services.importing.formats.csv_format import (  # noqa: F401
	CSV_DELIMITERS,
	check_csv_quotes,
	csv_delimiter,
	detect_delimiter,
	iter_csv,
)
from opportunity_suite.services.importing.formats.text import (  # noqa: F401
	SINGLE_BYTE_LATIN,
	SNIFF_BYTES,
	check_decodes,
	check_not_utf8,
	detect_encoding,
	looks_like_utf8,
	normalise_encoding,
)
from opportunity_suite.services.importing.formats.xlsx_format import iter_xlsx  # noqa: F401
