"""Repairs: TSM RP02 and the failures the Ombudsman found, with trends, breakdowns and overdue work."""

from housing_assurance.app import blocks, shell
from housing_assurance.scorecard import domain_kpis

view = shell.current_view()
if blocks.drilling("rp"):
    blocks.drilldown(view, "rp")
else:
    shell.header("Repairs", view, "Responsive repairs (emergency, urgent and routine). The RP02 figures count jobs at "
                 "rented homes only.")
    kpi_ids = domain_kpis("rp")
    blocks.kpi_tiles(view, kpi_ids, "rp")
    trend = blocks.trends(view, kpi_ids, default="rp.non_emergency_on_time_pct")
    breakdown = blocks.breakdown_section(view, kpi_ids, "rp", default="rp.open_overdue_jobs", default_by="region")
    blocks.exception_table(view, "rp.open_overdue_jobs", "Open repairs past target", "rp", limit=200)
    blocks.exception_table(view, "rp.repeat_contact_open_jobs", "Open repairs chased three or more times", "rp")
    blocks.publish(view, trend=trend, **breakdown)
