"""Contractors: in-house beside external, the 13-week scorecard per contractor, trends and breakdowns."""

from housing_assurance.app import blocks, shell
from housing_assurance.scorecard import domain_kpis

view = shell.current_view()
if blocks.drilling("ct"):
    blocks.drilldown(view, "ct")
else:
    shell.header("Contractors", view, "Responsive jobs completed in the week, split between the in-house workforce "
                 "and external contractors.")
    blocks.start_contractor_table(view)  # its 13-week query runs while the figures above the table are drawn
    kpi_ids = domain_kpis("ct")
    blocks.kpi_tiles(view, kpi_ids, "ct", per_row=3)
    blocks.in_house_beside_external(view)
    blocks.contractor_table(view)
    trend = blocks.trends(view, kpi_ids, default="ct.external_on_time_pct")
    breakdown = blocks.breakdown_section(view, kpi_ids, "ct", default="ct.external_on_time_pct",
                                         default_by="contractor_id")
    blocks.publish(view, trend=trend, **breakdown)
