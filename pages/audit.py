"""Audit trail: who opened which case, drill-down list or export (administrators only)."""

from housing_assurance.app import audit_page, shell

audit_page.audit_page(shell.current_view())
