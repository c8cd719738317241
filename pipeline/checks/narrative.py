"""Narrative checks (placeholder filled below)."""
