"""Contractors: in-house beside external, the 13-week scorecard per contractor, trends and breakdowns."""

from housing_assurance import ui

view = ui.current_view()
if ui.drilling("ct"):
    ui.drilldown(view, "ct")
else:
    ui.header("Contractors", view, "Responsive jobs completed in the week, split between the in-house workforce "
              "and external contractors.")
    kpi_ids = ui.domain_kpis("ct")
    ui.kpi_tiles(view, kpi_ids, "ct", per_row=3)
    ui.in_house_beside_external(view)
    ui.contractor_table(view)
    trend = ui.trends(view, kpi_ids, default="ct.external_on_time_pct")
    breakdown, by = ui.breakdown_section(view, kpi_ids, "ct", default="ct.external_on_time_pct",
                                         default_by="contractor_id")
    ui.publish(view, trend=trend, breakdown=breakdown, by=by)
