"""Benchmarks (not tests): import and export at scale."""
