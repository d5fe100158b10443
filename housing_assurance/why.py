"""Why a figure is red or amber, in one line, from the cases behind it.

"4 of 9 cases not investigated within 10 working days; the furthest 3 days over; 2 at vulnerable
households". The overview's tiles, the headline and the pack's exceptions page read it from here, so a
committee hears the same reason wherever it looks. Worked out from exactly the rows the drill-down
lists (kpis.cases), never from separate counts.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from housing_assurance.kpis import Kpi
from housing_assurance.targets import Target
from housing_assurance.weeks import week_end
from housing_assurance.words import plural, rows_noun, value_text

# How one row that counts against a percentage reads ("4 of 9 cases <words>").
AGAINST: dict[str, str] = {
    "dm.emergency_made_safe_24h_pct": "not made safe within 24 hours",
    "dm.investigated_10wd_pct": "not investigated within 10 working days",
    "dm.summary_3wd_pct": "without a written summary within 3 working days",
    "dm.safety_work_5wd_pct": "without safety work within 5 working days",
    "dm.further_work_12wk_pct": "without further work started within 12 weeks",
    "dm.repeat_cases_pct": "repeat or reopened",
    "rp.emergency_on_time_pct": "late", "rp.non_emergency_on_time_pct": "late",
    "ct.in_house_on_time_pct": "late", "ct.external_on_time_pct": "late",
    "rp.first_time_fix_pct": "not fixed first time", "ct.in_house_first_time_fix_pct": "not fixed first time",
    "ct.external_first_time_fix_pct": "not fixed first time",
    "rp.repeat_repairs_pct": "repeats within 30 days",
    "rp.no_access_pct": "with no access", "rp.landlord_missed_pct": "missed or cancelled by us",
    "rp.satisfaction_pct": "not satisfied", "ct.in_house_satisfaction_pct": "not satisfied",
    "ct.external_satisfaction_pct": "not satisfied",
    "rp.unverified_completion_pct": "not verified", "rp.offline_record_pct": "recorded on a spreadsheet",
    "cx.stage1_on_time_pct": "answered late", "cx.stage2_on_time_pct": "answered late",
    "cx.stage1_on_time_fytd_pct": "answered late", "cx.stage2_on_time_fytd_pct": "answered late",
    "cx.acknowledged_on_time_pct": "acknowledged late", "cx.escalation_rate_fytd_pct": "escalated",
    "cx.upheld_pct": "upheld or partly upheld",
    "vu.households_flagged_pct": "with no vulnerability recorded",
    "vu.census_coverage_pct": "not confirmed in the last two years",
    "vu.adjustment_recorded_pct": "without a reasonable adjustment recorded",
}


def _days(n: float) -> str:
    whole = max(int(n), 0)
    return "under a day" if whole == 0 else plural(whole, "day")


def _against(k: Kpi, goal: Target, rows: pl.DataFrame) -> pl.DataFrame:
    """The rows that count against a percentage: those not meeting it when higher is better, else those
    meeting it (a repeat, a missed appointment)."""
    return rows.filter(~pl.col("meets")) if goal.higher_is_better else rows.filter(pl.col("meets"))


def _how_late(k: Kpi, against: pl.DataFrame, as_of: date) -> str | None:
    """The worst lateness among the rows against a clock: 'the furthest 3 days over'."""
    if "due_by" in against.columns and k.id.startswith("dm."):  # an Awaab's Law clock, still running at E
        over = against.select((pl.col("action_at").fill_null(week_end(as_of)) - pl.col("due_by")).max()).item()
        return f"the furthest {_days(over.total_seconds() / 86400)} over" if over is not None else None
    if "days_late" in against.columns and "on_time" in k.id:
        late = against["days_late"].max()
        return f"the latest {_days(late)} late" if late is not None else None
    return None


def _vulnerable(k: Kpi, rows: pl.DataFrame) -> str | None:
    if "is_vulnerable_household" not in rows.columns or "is_vulnerable_household" in k.where:
        return None
    n = int(rows["is_vulnerable_household"].fill_null(False).sum())
    return f"{n:,} at vulnerable households" if n else None


def _oldest(k: Kpi, rows: pl.DataFrame, as_of: date) -> str | None:
    """How long the worst of a count's cases has been waiting."""
    if "first_breached_due_by" in rows.columns and k.id == "dm.overdue_open_cases":
        first = rows["first_breached_due_by"].min()
        if first is not None:
            over = week_end(as_of) - first
            return f"the oldest breach {_days(over.total_seconds() / 86400)} old"
    if "days_overdue" in rows.columns and rows["days_overdue"].max() is not None:
        return f"the longest {_days(rows['days_overdue'].max())} overdue"
    if "days_open" in rows.columns and rows["days_open"].max() is not None:
        return f"the oldest open {_days(rows['days_open'].max())}"
    return None


def reason(k: Kpi, goal: Target | None, rag: str | None, fig: dict, rows: pl.DataFrame, as_of: date) -> str | None:
    """One line of why for a red or amber figure (None when it is on target or has none)."""
    if rag not in ("red", "amber") or goal is None:
        return None
    noun = rows_noun(k)
    if k.kind == "pct":
        against = _against(k, goal, rows)
        parts = [f"{against.height:,} of {rows.height:,} {noun} {AGAINST.get(k.id, 'against the target')}",
                 _how_late(k, against, as_of), _vulnerable(k, against)]
    elif k.kind in ("count", "sum"):
        counted = f"{rows.height:,} {rows_noun(k, rows.height)}" if k.kind == "count" else value_text(k, fig["value"])
        parts = [counted, _oldest(k, rows, as_of), _vulnerable(k, rows)]
    elif k.kind in ("median", "mean") and k.value_column and not rows.is_empty():
        longest = rows[k.value_column].max()
        parts = [f"{'median' if k.kind == 'median' else 'average'} {value_text(k, fig['value'])} over "
                 f"{rows.height:,} {rows_noun(k, rows.height)}",
                 f"the longest {value_text(k, longest)}" if longest is not None else None]
    elif k.kind == "per_1000_homes" and fig["denominator"]:
        parts = [f"{fig['numerator']:,} {noun} in {fig['denominator']:,} homes"]
    else:
        return None
    return "; ".join(p for p in parts if p)
