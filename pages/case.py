"""Case: one damp and mould case, repair job or complaint, its whole story on one timeline."""

from housing_assurance.app import case_page, shell

case_page.case_page(shell.current_view())
