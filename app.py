"""The housing assurance dashboard: `streamlit run app.py`.

Serves the extract in the folder named by HOUSING_ASSURANCE_DATA (default data/demo, generated on
first start). The pages are listed here; each is a thin layout over housing_assurance.ui.
"""

import streamlit as st

from housing_assurance import ui

st.set_page_config(page_title="Housing assurance", page_icon=":material/home_work:", layout="wide",
                   initial_sidebar_state="expanded")

PAGES = [
    st.Page("pages/overview.py", title="Executive overview", icon=":material/dashboard:", default=True),
    st.Page("pages/damp_mould.py", title="Damp and mould", icon=":material/water_drop:", url_path="damp-and-mould"),
    st.Page("pages/homes_at_risk.py", title="Homes at risk", icon=":material/warning:", url_path="homes-at-risk"),
    st.Page("pages/repairs.py", title="Repairs", icon=":material/build:", url_path="repairs"),
    st.Page("pages/complaints.py", title="Complaints", icon=":material/forum:", url_path="complaints"),
    st.Page("pages/contractors.py", title="Contractors", icon=":material/engineering:", url_path="contractors"),
    st.Page("pages/vulnerability.py", title="Vulnerability and records", icon=":material/diversity_3:",
            url_path="vulnerability"),
    st.Page("pages/case.py", title="Case", icon=":material/search:", url_path="case"),
    st.Page("pages/about.py", title="About the data", icon=":material/info:", url_path="about"),
]

AUDIT = st.Page("pages/audit.py", title="Audit trail", icon=":material/policy:", url_path="audit")

user = ui.sign_in()  # who is asking decides the menu: only administrators see the audit trail
page = st.navigation(PAGES + ([AUDIT] if user.role.reads_audit else []))
view = None
try:
    view = ui.start()
    page.run()
finally:
    ui.finish(view)
