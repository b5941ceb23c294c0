"""Donors, their contributions, and the fund's ledger."""
