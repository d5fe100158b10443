"""Homes at risk of damp and mould: the explainable list for the scope, reasons in full, then how it did before."""

from housing_assurance.app import risk_page, shell

risk_page.risk_page(shell.current_view())
