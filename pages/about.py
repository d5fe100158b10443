"""About the data: the extract, its tables, validation findings, and how the figures are made."""

from housing_assurance import ui

ui.about_page(ui.current_view())
