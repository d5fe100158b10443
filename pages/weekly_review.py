"""Weekly review: the week's red and amber figures with their commentary, the action tracker, the sign-off."""

from housing_assurance.app import review_page, shell

review_page.review_page(shell.current_view())
