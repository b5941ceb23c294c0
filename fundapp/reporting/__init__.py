"""Grantee reports, donor reports and exports, dashboards."""
