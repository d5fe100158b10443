"""About the data: the extract, its tables, validation findings, and how the figures are made."""

from housing_assurance.app import about_page, shell

about_page.about_page(shell.current_view())
