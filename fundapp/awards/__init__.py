"""Decisions, grants, letters and payment tranches."""
