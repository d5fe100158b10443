"""Homes at risk of damp and mould: the explainable list for the scope, beside how it did on past data."""

from housing_assurance.app import risk_page, shell

risk_page.risk_page(shell.current_view())
