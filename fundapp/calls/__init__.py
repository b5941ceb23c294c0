"""Calls for proposals: criteria, eligibility, publication, public pages."""
