"""Case: one damp and mould case, repair job or complaint, its whole story on one timeline."""

from housing_assurance import ui

ui.case_page(ui.current_view())
