"""Damp and mould: every Awaab's Law KPI, trends, breakdowns and the cases in breach."""

from housing_assurance import due
from housing_assurance.app import blocks, shell
from housing_assurance.scorecard import domain_kpis

view = shell.current_view()
if blocks.drilling("dm"):
    blocks.drilldown(view, "dm")
else:
    shell.header("Damp and mould", view, "Awaab's Law timescales (in force 27 October 2025) applied to every case as "
                 "the service standard: emergencies made safe in 24 hours, investigation in 10 working days, a "
                 "written summary in 3, safety work in 5, further work started within 12 weeks.")
    kpi_ids = domain_kpis("dm")
    blocks.kpi_tiles(view, kpi_ids, "dm")
    blocks.due_soon_table(view, due.DAMP_MOULD, "dm")
    blocks.exception_table(view, "dm.overdue_open_cases", "Open cases past an Awaab's Law deadline", "dm")
    blocks.exception_table(view, "dm.open_emergency_cases", "Open emergency hazards", "dm")
    trend = blocks.trends(view, kpi_ids, default="dm.investigated_10wd_pct")
    breakdown = blocks.breakdown_section(view, kpi_ids, "dm", default="dm.open_cases", default_by="region")
    blocks.publish(view, trend=trend, **breakdown)
