"""The executive scorecard: headline KPIs with target, red/amber/green, change and 13-week history.

Shared by the app's overview, the domain pages and the PDF pack, so they always agree.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from housing_assurance.db import Extract
from housing_assurance.kpis import KPIS, WHOLE_LANDLORD, Scope, trend
from housing_assurance.settings import targets

DOMAINS = {
    "dm": "Damp and mould",
    "rp": "Repairs",
    "cx": "Complaints",
    "ct": "Contractors",
    "vu": "Vulnerability and records",
    "dq": "Vulnerability and records",
}

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

# Red/amber/green in words and a symbol as well as colour (colour is never the only signal).
RAG_LABELS = {"green": ("On target", "✓"), "amber": ("Near target", "!"), "red": ("Off target", "✕"),
              None: ("No target", "·")}


def rag_label(rag: str | None) -> str:
    word, symbol = RAG_LABELS[rag]
    return f"{symbol} {word}"


def scorecard(extract: Extract, as_of: date, scope: Scope = WHOLE_LANDLORD,
              kpi_ids: tuple[str, ...] | list[str] = HEADLINE, weeks: int = 13) -> pl.DataFrame:
    """One row per KPI: this week's figure, last week's, the change, target, RAG and the weekly history."""
    return scorecard_from_history(trend(extract, as_of, weeks, scope, list(kpi_ids)), as_of, kpi_ids)


def scorecard_from_history(history: pl.DataFrame, as_of: date,
                           kpi_ids: tuple[str, ...] | list[str] = HEADLINE) -> pl.DataFrame:
    """The scorecard from figures already computed (as kpis.trend gives them, ending on as_of).

    The app keeps its figures in a cache; this lets it build the very same scorecard from them.
    """
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
            "domain": DOMAINS[k.domain],
            "kind": k.kind,
            "value": now["value"],
            "numerator": now["numerator"],
            "denominator": now["denominator"],
            "previous_value": previous,
            "change": None if now["value"] is None or previous is None else now["value"] - previous,
            "target": goal.target if goal else None,
            "higher_is_better": goal.higher_is_better if goal else None,
            "rag": rag,
            "status": rag_label(rag) if now["value"] is not None else "· No data",
            "history": values,
            "history_as_of": series["as_of"].to_list(),
        })
    return pl.DataFrame(rows, schema_overrides={
        "value": pl.Float64, "previous_value": pl.Float64, "change": pl.Float64, "target": pl.Float64,
        "numerator": pl.Int64, "denominator": pl.Int64, "history": pl.List(pl.Float64)})
