"""The scorecard: KPIs with target, red/amber/green, change and 13-week history.

Shared by the app's overview and domain pages and the PDF pack, so they always agree.
"""

from __future__ import annotations

import math
from datetime import date

import polars as pl

from housing_assurance import routes
from housing_assurance.kpis import KPIS, Kpi
from housing_assurance.targets import status_words, targets
from housing_assurance.weeks import FOUR_WEEKS, TREND_WEEKS, financial_year_start, same_week_last_year

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


def pooled(k: Kpi, weeks: list[dict]) -> float | None:
    """Several weeks' figures as one: a percentage from the cases added up (never an average of
    percentages, which would weigh a week of 2 cases like a week of 200); a count, sum or money added
    up. None for a figure weeks cannot be added into (a median, an average, a state at the end of a week).
    `weeks` are figures (as_of, value, numerator, denominator); plain Python, because the pack builds
    every KPI's scorecard while other threads hold the cores, and polars' small steps then queue."""
    if not weeks or not k.is_weekly_flow or k.kind not in ("pct", "count", "sum", "sum_gbp"):
        return None
    if k.kind == "pct":
        denominator = sum(w["denominator"] or 0 for w in weeks)
        return 100.0 * sum(w["numerator"] or 0 for w in weeks) / denominator if denominator else None
    return math.fsum(w["value"] or 0.0 for w in weeks)


def four_weeks(k: Kpi, series: list[dict], as_of: date) -> float | None:
    """The four weeks ending D: added up as one for a weekly percentage (pooled), else the average of the
    four weekly figures, so it reads on the same scale as the week's figure."""
    last = [w for w in series if w["as_of"] <= as_of][-FOUR_WEEKS:]
    if len(last) < FOUR_WEEKS:
        return None
    if k.kind == "pct" and k.is_weekly_flow:
        return pooled(k, last)
    values = [w["value"] for w in last if w["value"] is not None]
    return math.fsum(values) / len(values) if values else None


def year_to_date(k: Kpi, series: list[dict], as_of: date) -> tuple[float | None, int]:
    """The weeks of this financial year so far (those ending on or after 1 April, up to D) as one figure,
    and how many weeks that is."""
    start = financial_year_start(as_of)
    weeks = [w for w in series if start <= w["as_of"] <= as_of]
    return pooled(k, weeks), len(weeks)


def scorecard_from_history(history: pl.DataFrame, as_of: date,
                           kpi_ids: tuple[str, ...] | list[str] = HEADLINE) -> pl.DataFrame:
    """One row per KPI: this week's figure, last week's, the change, target, RAG, the last 13 weeks and
    the comparisons (same week last year, four weeks, year to date) from figures already computed (as
    kpis.trend or the figure store give them, ending on as_of; 53 weeks give every comparison)."""
    by_kpi: dict[str, list[dict]] = {}
    for week in history.sort("as_of").select("kpi_id", "as_of", "value", "numerator", "denominator").to_dicts():
        by_kpi.setdefault(week["kpi_id"], []).append(week)
    last_year = same_week_last_year(as_of)
    goals = targets()
    rows = []
    for kpi_id in kpi_ids:
        k = KPIS[kpi_id]
        series = by_kpi.get(kpi_id, [])
        before = [w["value"] for w in series if w["as_of"] == last_year]
        ytd, ytd_weeks = year_to_date(k, series, as_of)
        recent = series[-TREND_WEEKS:]
        values = [w["value"] for w in recent]
        now = next(w for w in series if w["as_of"] == as_of)
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
            "history_as_of": [w["as_of"] for w in recent],
            "last_year_value": before[0] if before else None,
            "four_week_value": four_weeks(k, series, as_of),
            "fytd_value": ytd,
            "fytd_weeks": ytd_weeks,
        })
    return pl.DataFrame(rows, schema_overrides={
        "value": pl.Float64, "previous_value": pl.Float64, "change": pl.Float64, "target": pl.Float64,
        "last_year_value": pl.Float64, "four_week_value": pl.Float64, "fytd_value": pl.Float64,
        "numerator": pl.Int64, "denominator": pl.Int64, "history": pl.List(pl.Float64)})


def movers(card: pl.DataFrame, n: int = 3) -> list[dict]:
    """The figures with a better direction that moved most since last week: percentages by points,
    everything else by its change as a share of last week's figure (so 40 more open jobs out of 700
    ranks below 3 more breaches out of 2)."""
    moved = []
    for r in card.iter_rows(named=True):
        if r["change"] is None or r["change"] == 0 or r["higher_is_better"] is None:
            continue
        size = abs(r["change"]) if r["kind"] == "pct" else 100 * abs(r["change"]) / max(abs(r["previous_value"]), 1)
        moved.append((size, r))
    return [r for _, r in sorted(moved, key=lambda m: (-m[0], m[1]["kpi_id"]))[:n]]


def headline_text(card: pl.DataFrame) -> str:
    """The overview's first line: how many figures with a target are off it or near it, and what moved
    most since last week."""
    from housing_assurance.words import change

    rated = card.filter(pl.col("rag").is_not_null())
    red, amber = (rated.filter(pl.col("rag") == rag).height for rag in ("red", "amber"))
    if rated.is_empty():
        text = "No figure here has a target this week."
    elif red or amber:
        text = f"{red:,} of {rated.height:,} figures with a target are off target" + (
            f" and {amber:,} near it." if amber else ".")
    else:
        text = f"All {rated.height:,} figures with a target are on target."
    moved = movers(card)
    if moved:
        parts = []
        for r in moved:
            c = change(KPIS[r["kpi_id"]], r["change"], r["higher_is_better"])
            parts.append(f"{r['title']} {c.text} ({c.direction})")
        text += " Moved most since last week: " + "; ".join(parts) + "."
    return text
