"""The housing assurance dashboard: `streamlit run app.py`.

Serves the extract in the folder named by HOUSING_ASSURANCE_DATA (default data/demo, generated on
first start). The menu comes from the one page registry (housing_assurance/routes.py); each page in
pages/ is a thin layout over housing_assurance.app.
"""

import streamlit as st

from housing_assurance.app import shell

# The icon is served by the app itself: a Material icon name would have the browser fetch it from Google.
st.set_page_config(page_title="Housing assurance", page_icon=shell.ICON, layout="wide",
                   initial_sidebar_state="auto")  # open on a desktop, closed on a phone

user = shell.sign_in()  # who is asking decides the menu: only administrators see the audit trail
page = st.navigation(shell.pages(user))
try:
    shell.start()
    page.run()
except Exception as exc:  # noqa: BLE001 - no traceback reaches a browser: a reference, logged with the error
    shell.unexpected(exc)
finally:
    shell.finish()
