"""Why a figure is red or amber, in one line, from the cases behind it.

"4 of 9 cases not investigated within 10 working days; the furthest 3 days over; 2 at vulnerable
households". The overview's tiles, the headline and the pack's exceptions page read it from here, so a
committee hears the same reason wherever it looks.

A line is worked out from a few facts about exactly the rows the drill-down lists (kpis.cases): how
many, how many count against the target, the furthest over, the oldest, how many at vulnerable
households. Each fact is defined once here, as one row's value and how rows combine (a sum, a maximum
or a minimum), so it can be taken from the drill-down's rows themselves (the pack) or from a prepared
store's kept rows, which carry every fact per group of rows (figures.grouped_rows): the app's new week
then reads its reasons in milliseconds rather than running a query per red figure. Both give the same
facts for every figure (tests/test_why.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

import duckdb
import polars as pl
from duckdb import sqltypes

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


@dataclass(frozen=True)
class Fact:
    """One fact a line of why reads: the columns it needs, one row's value, and how the values of many
    rows combine."""

    name: str
    needs: tuple[str, ...]
    how: str  # sum, max or min: the same function in DuckDB and polars
    value: duckdb.Expression


def _facts() -> tuple[Fact, ...]:
    col = duckdb.ColumnExpression
    epoch_us = lambda column: duckdb.FunctionExpression("epoch_us", col(column))  # noqa: E731
    clock = ("due_by", "action_at")  # an Awaab's Law clock: done late, or still running at the week's end
    return (
        Fact("why_vulnerable", ("is_vulnerable_household",), "sum",
             duckdb.CoalesceOperator(col("is_vulnerable_household"), duckdb.ConstantExpression(False))
             .cast(sqltypes.BIGINT)),
        Fact("why_done_over_us", clock, "max", epoch_us("action_at") - epoch_us("due_by")),
        Fact("why_open_due_by", clock, "min", duckdb.CaseExpression(col("action_at").isnull(), col("due_by"))),
        *(Fact(name, (column,), how, col(column)) for name, how, column in (
            ("why_days_late", "max", "days_late"), ("why_first_breach", "min", "first_breached_due_by"),
            ("why_days_overdue", "max", "days_overdue"), ("why_days_open", "max", "days_open"))),
    )


FACTS = _facts()


@lru_cache(maxsize=1)
def _scratch() -> duckdb.DuckDBPyConnection:
    """An in-memory database for the drill-down's rows, each read on a cursor of its own (opened when
    first needed: 20-40 ms that a command reading a store's facts never spends)."""
    return duckdb.connect()


def facts_of(columns: list[str]) -> list[Fact]:
    """The facts that rows with these columns carry (a query's rows have some of them)."""
    return [f for f in FACTS if all(c in columns for c in f.needs)]


def row_facts(columns: list[str]) -> list[duckdb.Expression]:
    """Each fact of one row, as columns (a store's rows kept one per case)."""
    return [f.value.alias(f.name) for f in facts_of(columns)]


def group_facts(columns: list[str]) -> list[duckdb.Expression]:
    """Each fact of a group of rows, as aggregates (a store's rows kept grouped, with a count n)."""
    out = []
    for f in facts_of(columns):
        combined = duckdb.FunctionExpression(f.how, f.value)
        out.append((combined.cast(sqltypes.BIGINT) if f.how == "sum" else combined).alias(f.name))
    return out


def _against(goal: Target, rows: pl.DataFrame) -> pl.DataFrame:
    """The rows that count against a percentage: those not meeting it when higher is better, else those
    meeting it (a repeat, a missed appointment)."""
    return rows.filter(~pl.col("meets")) if goal.higher_is_better else rows.filter(pl.col("meets"))


def facts_from_groups(k: Kpi, goal: Target, groups: pl.DataFrame) -> dict:
    """The facts of a figure from its rows in groups (a count n and each fact per group): of all its rows,
    of the rows it counts (against a percentage, or all of a count's) and of the longest value."""
    counted = _against(goal, groups) if k.kind == "pct" else groups
    out: dict = {"rows": int(groups["n"].sum()), "counted": int(counted["n"].sum())}
    for f in FACTS:
        if f.name in groups.columns:
            out[f.name] = getattr(counted[f.name], f.how)()
    if k.value_column and k.value_column in groups.columns:
        out["longest"] = groups[k.value_column].max()
    return out


def facts_from_cases(k: Kpi, goal: Target, rows: pl.DataFrame) -> dict:
    """The facts of a figure from the drill-down's rows: grouped as a store keeps them (by `meets` for a
    percentage), each fact computed by the same definition, then combined as a store's groups are."""
    con = _scratch().cursor()
    try:
        by = [duckdb.ColumnExpression("meets")] if k.kind == "pct" else []
        value = ([duckdb.FunctionExpression("max", duckdb.ColumnExpression(k.value_column)).alias(k.value_column)]
                 if k.value_column and k.value_column in rows.columns else [])
        n = duckdb.FunctionExpression("count_star").cast(sqltypes.BIGINT).alias("n")
        groups = con.from_arrow(rows).aggregate([*by, n, *group_facts(rows.columns), *value],
                                                ", ".join(map(str, by))).pl()
    finally:
        con.close()
    return facts_from_groups(k, goal, groups)


def _days(n: float) -> str:
    whole = max(int(n), 0)
    return "under a day" if whole == 0 else plural(whole, "day")


def _over(over: timedelta) -> str:
    return _days(over.total_seconds() / 86400)


def _how_late(k: Kpi, facts: dict, as_of: date) -> str | None:
    """The worst lateness among the rows against a clock: 'the furthest 3 days over'."""
    if "why_done_over_us" in facts and k.id.startswith("dm."):  # an Awaab's Law clock, still running at E
        done, open_due = facts["why_done_over_us"], facts["why_open_due_by"]
        overs = ([timedelta(microseconds=done)] if done is not None else []) + \
                ([week_end(as_of) - open_due] if open_due is not None else [])
        return f"the furthest {_over(max(overs))} over" if overs else None
    if "why_days_late" in facts and "on_time" in k.id:
        late = facts["why_days_late"]
        return f"the latest {_days(late)} late" if late is not None else None
    return None


def _vulnerable(k: Kpi, facts: dict) -> str | None:
    if "why_vulnerable" not in facts or "is_vulnerable_household" in k.where:
        return None
    n = facts["why_vulnerable"]
    return f"{n:,} at vulnerable households" if n else None


def _oldest(k: Kpi, facts: dict, as_of: date) -> str | None:
    """How long the worst of a count's cases has been waiting."""
    first: datetime | None = facts.get("why_first_breach")
    if first is not None and k.id == "dm.overdue_open_cases":
        return f"the oldest breach {_over(week_end(as_of) - first)} old"
    if facts.get("why_days_overdue") is not None:
        return f"the longest {_days(facts['why_days_overdue'])} overdue"
    if facts.get("why_days_open") is not None:
        return f"the oldest open {_days(facts['why_days_open'])}"
    return None


def _said(k: Kpi, fig: dict, facts: dict, as_of: date) -> str | None:
    """The line for a red or amber figure from its facts."""
    rows, counted = facts["rows"], facts["counted"]
    if k.kind == "pct":
        parts = [f"{counted:,} of {rows:,} {rows_noun(k)} {AGAINST.get(k.id, 'against the target')}",
                 _how_late(k, facts, as_of), _vulnerable(k, facts)]
    elif k.kind in ("count", "sum"):
        said = f"{rows:,} {rows_noun(k, rows)}" if k.kind == "count" else value_text(k, fig["value"])
        parts = [said, _oldest(k, facts, as_of), _vulnerable(k, facts)]
    elif k.kind in ("median", "mean") and k.value_column and rows:
        longest = facts.get("longest")
        parts = [f"{'median' if k.kind == 'median' else 'average'} {value_text(k, fig['value'])} over "
                 f"{rows:,} {rows_noun(k, rows)}",
                 f"the longest {value_text(k, longest)}" if longest is not None else None]
    elif k.kind == "per_1000_homes" and fig["denominator"]:
        parts = [f"{fig['numerator']:,} {rows_noun(k)} in {fig['denominator']:,} homes"]
    else:
        return None
    return "; ".join(p for p in parts if p)


def reason(k: Kpi, goal: Target | None, rag: str | None, fig: dict, rows: pl.DataFrame, as_of: date) -> str | None:
    """One line of why for a red or amber figure (None when it is on target or has none), from the
    drill-down's rows (kpis.cases)."""
    if rag not in ("red", "amber") or goal is None:
        return None
    return _said(k, fig, facts_from_cases(k, goal, rows), as_of)


def reason_from_groups(k: Kpi, goal: Target | None, rag: str | None, fig: dict, groups: pl.DataFrame,
                       as_of: date) -> str | None:
    """reason() from a store's kept rows behind the figure (FigureStore.kpi_rows: grouped, with facts)."""
    if rag not in ("red", "amber") or goal is None:
        return None
    return _said(k, fig, facts_from_groups(k, goal, groups), as_of)
