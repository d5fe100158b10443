"""Assurance dashboard for social-housing landlords: KPIs from a landlord's weekly extracts."""
