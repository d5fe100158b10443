"""Executive overview: the headline scorecard, breaches running now, and how fresh the data is."""

import streamlit as st

from housing_assurance.app import blocks, shell
from housing_assurance.scorecard import HEADLINE

view = shell.current_view()
if blocks.drilling("overview"):
    blocks.drilldown(view, "overview")
else:
    shell.header("Executive overview", view)
    blocks.freshness(view)
    blocks.kpi_tiles(view, HEADLINE, "overview", per_row=5, by_domain=True, headline=True)
    st.header("Breaches now")
    blocks.exception_table(view, "dm.overdue_open_cases", "Open damp and mould cases past an Awaab's Law deadline",
                           "overview")
    blocks.exception_table(view, "cx.open_overdue", "Open complaints past their response deadline", "overview")
    blocks.publish(view)
