"""Damp and mould: every Awaab's Law KPI, trends, breakdowns and the cases in breach."""

from housing_assurance import ui

view = ui.current_view()
if ui.drilling("dm"):
    ui.drilldown(view, "dm")
else:
    ui.header("Damp and mould", view, "Awaab's Law timescales (in force 27 October 2025) applied to every case as "
              "the service standard: emergencies made safe in 24 hours, investigation in 10 working days, a "
              "written summary in 3, safety work in 5, further work started within 12 weeks.")
    kpi_ids = ui.domain_kpis("dm")
    ui.kpi_tiles(view, kpi_ids, "dm")
    trend = ui.trends(view, kpi_ids, default="dm.investigated_10wd_pct")
    breakdown, by = ui.breakdown_section(view, kpi_ids, "dm", default="dm.open_cases", default_by="region")
    ui.exception_table(view, "dm.overdue_open_cases", "Open cases past an Awaab's Law deadline", "dm")
    ui.exception_table(view, "dm.open_emergency_cases", "Open emergency hazards", "dm")
    ui.publish(view, trend=trend, breakdown=breakdown, by=by)
