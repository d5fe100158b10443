"""Complaints: Complaint Handling Code clocks, TSM CH01 and CH02, and the complaints past a deadline."""

from housing_assurance import ui

view = ui.current_view()
if ui.drilling("cx"):
    ui.drilldown(view, "cx")
else:
    ui.header("Complaints", view, "Complaint Handling Code 2024: acknowledge within 5 working days; respond within "
              "10 (stage 1) or 20 (stage 2) working days of acknowledging.")
    kpi_ids = ui.domain_kpis("cx")
    ui.kpi_tiles(view, kpi_ids, "cx")
    trend = ui.trends(view, kpi_ids, default="cx.stage1_on_time_pct")
    breakdown, by = ui.breakdown_section(view, kpi_ids, "cx", default="cx.open_complaints", default_by="category")
    ui.exception_table(view, "cx.open_overdue", "Open complaints past their response deadline", "cx")
    ui.publish(view, trend=trend, breakdown=breakdown, by=by)
