"""How we compare: our Tenant Satisfaction Measures beside every large landlord's published figures."""

from housing_assurance.app import compare_page, shell

compare_page.compare_page(shell.current_view())
