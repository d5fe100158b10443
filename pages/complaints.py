"""Complaints: Complaint Handling Code clocks, TSM CH01 and CH02, and the complaints past a deadline."""

from housing_assurance import due
from housing_assurance.app import blocks, shell
from housing_assurance.scorecard import domain_kpis

view = shell.current_view()
if blocks.drilling("cx"):
    blocks.drilldown(view, "cx")
else:
    shell.header("Complaints", view, "Complaint Handling Code 2024: acknowledge within 5 working days; respond within "
                 "10 (stage 1) or 20 (stage 2) working days of acknowledging.")
    kpi_ids = domain_kpis("cx")
    blocks.kpi_tiles(view, kpi_ids, "cx")
    blocks.due_soon_table(view, due.COMPLAINT, "cx")
    blocks.exception_table(view, "cx.open_overdue", "Open complaints past their response deadline", "cx")
    trend = blocks.trends(view, kpi_ids, default="cx.stage1_on_time_pct")
    breakdown = blocks.breakdown_section(view, kpi_ids, "cx", default="cx.open_complaints", default_by="category")
    blocks.publish(view, trend=trend, **breakdown)
