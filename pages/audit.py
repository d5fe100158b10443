"""Audit trail: who opened which case, drill-down list or export (administrators only)."""

from housing_assurance import ui

view = ui.current_view()
ui.audit_page(view)
