"""Opportunity Import, the fast path: readers (CSV, XLSX, VCF), column mapping, value parsing, the batch
runner, background jobs (start, resume, watchdog) and undo."""
