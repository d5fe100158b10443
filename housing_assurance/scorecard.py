"""The scorecard: KPIs with target, red/amber/green, change and 13-week history.

Shared by the app's overview and domain pages and the PDF pack, so they always agree.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from housing_assurance import routes
from housing_assurance.kpis import KPIS
from housing_assurance.targets import status_words, targets

# The figures the executive committee reads first.
HEADLINE = (
    "dm.open_cases",
    "dm.overdue_open_cases",
    "dm.emergency_made_safe_24h_pct",
    "dm.investigated_10wd_pct",
    "dm.safety_work_5wd_pct",
    "rp.emergency_on_time_pct",
    "rp.non_emergency_on_time_pct",
    "rp.first_time_fix_pct",
    "rp.satisfaction_pct",
    "cx.stage1_on_time_pct",
    "cx.stage2_on_time_pct",
    "cx.open_overdue",
    "vu.open_overdue_jobs_vulnerable",
    "dq.dm_open_without_job",
)


def domain_kpis(page_key: str) -> list[str]:
    """The KPIs a domain page shows (its domains' KPIs, in catalogue order)."""
    return [k.id for k in KPIS.values() if routes.domain_of(k.id).page == page_key]


def scorecard_from_history(history: pl.DataFrame, as_of: date,
                           kpi_ids: tuple[str, ...] | list[str] = HEADLINE) -> pl.DataFrame:
    """One row per KPI: this week's figure, last week's, the change, target, RAG and the weekly history,
    from figures already computed (as kpis.trend or the figure store give them, ending on as_of)."""
    history = history.sort("as_of")
    goals = targets()
    rows = []
    for kpi_id in kpi_ids:
        k = KPIS[kpi_id]
        series = history.filter(pl.col("kpi_id") == kpi_id)
        values = series["value"].to_list()
        now = series.filter(pl.col("as_of") == as_of).row(0, named=True)
        previous = values[-2] if len(values) > 1 else None
        goal = goals.get(kpi_id)
        rag = goal.rag(now["value"]) if goal else None
        rows.append({
            "kpi_id": kpi_id,
            "title": k.title,
            "domain": routes.domain_name(kpi_id),
            "kind": k.kind,
            "value": now["value"],
            "numerator": now["numerator"],
            "denominator": now["denominator"],
            "previous_value": previous,
            "change": None if now["value"] is None or previous is None else now["value"] - previous,
            "target": goal.target if goal else None,
            "higher_is_better": goal.higher_is_better if goal else None,
            "rag": rag,
            "status": status_words(rag, now["value"]),
            "history": values,
            "history_as_of": series["as_of"].to_list(),
        })
    return pl.DataFrame(rows, schema_overrides={
        "value": pl.Float64, "previous_value": pl.Float64, "change": pl.Float64, "target": pl.Float64,
        "numerator": pl.Int64, "denominator": pl.Int64, "history": pl.List(pl.Float64)})
