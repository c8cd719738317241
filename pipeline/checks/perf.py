"""Perf checks."""
