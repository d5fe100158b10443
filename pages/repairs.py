"""Repairs: TSM RP02 and the failures the Ombudsman found, with trends, breakdowns and overdue work."""

from housing_assurance import ui

view = ui.current_view()
if ui.drilling("rp"):
    ui.drilldown(view, "rp")
else:
    ui.header("Repairs", view, "Responsive repairs (emergency, urgent and routine). The RP02 figures count jobs at "
              "rented homes only.")
    kpi_ids = ui.domain_kpis("rp")
    ui.kpi_tiles(view, kpi_ids, "rp")
    trend = ui.trends(view, kpi_ids, default="rp.non_emergency_on_time_pct")
    breakdown, by = ui.breakdown_section(view, kpi_ids, "rp", default="rp.open_overdue_jobs", default_by="region")
    ui.exception_table(view, "rp.open_overdue_jobs", "Open repairs past target", "rp", limit=200)
    ui.exception_table(view, "rp.repeat_contact_open_jobs", "Open repairs chased three or more times", "rp")
    ui.publish(view, trend=trend, breakdown=breakdown, by=by)
