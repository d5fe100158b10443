"""Executive overview: the headline scorecard, breaches running now, and how fresh the data is."""

import streamlit as st

from housing_assurance import ui
from housing_assurance.scorecard import HEADLINE

view = ui.current_view()
if ui.drilling("overview"):
    ui.drilldown(view, "overview")
else:
    ui.header("Executive overview", view)
    ui.freshness(view)
    ui.kpi_tiles(view, HEADLINE, "overview", per_row=5, by_domain=True)
    st.header("Breaches now")
    ui.exception_table(view, "dm.overdue_open_cases", "Open damp and mould cases past an Awaab's Law deadline",
                       "overview")
    ui.exception_table(view, "cx.open_overdue", "Open complaints past their response deadline", "overview")
    ui.publish(view)
