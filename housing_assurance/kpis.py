"""Every KPI of shared/spec/kpis.md, computed from the case rows behind it.

Each KPI names a query in `queries/` that lists the rows behind it (one row per
case, job, complaint stage, survey … per as-of date), a filter on those rows and
how the rows become a figure. The figure is always an aggregate of exactly the
rows the drill-down shows, so a drill-down can never disagree with its figure.
The same functions serve the app, the PDF pack and the command line.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

import polars as pl

from housing_assurance.db import Extract, run_query
from housing_assurance.scope import WHOLE_LANDLORD, Scope, ScopeKind
from housing_assurance.weeks import weeks_ending

Kind = Literal["pct", "count", "per_1000_homes", "median", "mean", "sum", "sum_gbp"]


@dataclass(frozen=True)
class Kpi:
    id: str
    title: str
    kind: Kind
    query: str  # queries/<query>.sql lists the rows; "validation" for the dq.validation_* figures
    where: dict = field(default_factory=dict)  # column -> value (or tuple of values) the rows must have
    meets: str | None = None  # pct: the boolean column that puts a row in the numerator
    value_column: str | None = None  # median, mean, sum: the column aggregated
    unit: str = ""

    @property
    def domain(self) -> str:
        return self.id.split(".")[0]


def _k(id_, title, kind, query, where=None, meets=None, value=None, unit=""):
    return Kpi(id_, title, kind, query, where or {}, meets, value, unit)


WEEK = {"in_week": True}
FYTD = {"in_fytd": True}
# RP02's jobs (TSM): emergency, or urgent and routine, at rented homes; the week's for rp.*, the
# reporting year's for the TSM return (tsm.py).
RENTED_EMERGENCY = {"priority": "emergency", "is_rented_home": True}
RENTED_NON_EMERGENCY = {"priority": ("urgent", "routine"), "is_rented_home": True}

CATALOGUE: tuple[Kpi, ...] = (
    # Damp and mould (Awaab's Law clocks)
    _k("dm.new_cases", "New damp and mould cases", "count", "dm_cases_reported", WEEK),
    _k("dm.open_cases", "Open damp and mould cases", "count", "dm_open_cases"),
    _k("dm.open_cases_per_1000_homes", "Open damp and mould cases per 1,000 homes", "per_1000_homes",
       "dm_open_cases"),
    _k("dm.open_emergency_cases", "Open emergency hazard cases", "count", "dm_open_cases",
       {"is_emergency": True}),
    _k("dm.open_unassessed_cases", "Open cases not yet investigated", "count", "dm_open_cases",
       {"is_unassessed": True}),
    _k("dm.open_cases_vulnerable", "Open cases at vulnerable households", "count", "dm_open_cases",
       {"is_vulnerable_household": True}),
    _k("dm.emergency_made_safe_24h_pct", "Emergency hazards investigated and made safe in 24 hours", "pct",
       "dm_clocks_due", {"clock": "emergency_made_safe_24h"}, "meets"),
    _k("dm.investigated_10wd_pct", "Investigated within 10 working days", "pct", "dm_clocks_due",
       {"clock": "investigated_10wd"}, "meets"),
    _k("dm.summary_3wd_pct", "Written summary within 3 working days of investigation", "pct",
       "dm_clocks_due", {"clock": "summary_3wd"}, "meets"),
    _k("dm.safety_work_5wd_pct", "Significant hazards: safety work within 5 working days", "pct",
       "dm_clocks_due", {"clock": "safety_work_5wd"}, "meets"),
    _k("dm.further_work_12wk_pct", "Further work started within 12 weeks", "pct", "dm_clocks_due",
       {"clock": "further_work_12wk"}, "meets"),
    _k("dm.overdue_open_cases", "Open cases past an Awaab's Law deadline", "count", "dm_open_cases",
       {"is_overdue": True}),
    _k("dm.resolved_median_days", "Median days to resolve", "median", "dm_resolved", value="days_to_resolve",
       unit="days"),
    _k("dm.repeat_cases_pct", "Repeat or reopened cases", "pct", "dm_cases_reported", WEEK, "is_repeat"),
    _k("dm.cases_fytd_per_1000_homes", "Cases this financial year per 1,000 homes", "per_1000_homes",
       "dm_cases_reported", FYTD),
    # Repairs
    _k("rp.emergency_on_time_pct", "Emergency repairs on time (RP02)", "pct", "rp_completed_jobs",
       WEEK | RENTED_EMERGENCY, "is_on_time"),
    _k("rp.non_emergency_on_time_pct", "Non-emergency repairs on time (RP02)", "pct", "rp_completed_jobs",
       WEEK | RENTED_NON_EMERGENCY, "is_on_time"),
    _k("rp.open_jobs", "Open responsive repairs", "count", "rp_open_jobs"),
    _k("rp.open_overdue_jobs", "Open repairs past target", "count", "rp_open_jobs", {"is_overdue": True}),
    _k("rp.avg_days_to_complete", "Average days to complete", "mean", "rp_completed_jobs", WEEK,
       value="days_to_complete", unit="days"),
    _k("rp.first_time_fix_pct", "Fixed first time", "pct", "rp_completed_jobs", WEEK,
       "is_first_time_fix"),
    _k("rp.repeat_repairs_pct", "Repeat repairs within 30 days", "pct", "rp_reported_jobs",
       {"is_responsive": True}, "is_repeat"),
    _k("rp.suspected_not_fixed", "Completed jobs suspected not fixed", "count", "rp_suspected_not_fixed"),
    _k("rp.repeat_contact_open_jobs", "Open jobs chased three or more times", "count", "rp_open_jobs",
       {"has_three_chases": True}),
    _k("rp.no_access_pct", "Appointments with no access", "pct", "rp_appointments", meets="is_no_access"),
    _k("rp.landlord_missed_pct", "Appointments missed or cancelled by us", "pct", "rp_appointments",
       meets="is_landlord_missed"),
    _k("rp.satisfaction_pct", "Residents satisfied with the repair", "pct", "rp_job_surveys", meets="satisfied"),
    _k("rp.unverified_completion_pct", "Completions not verified", "pct", "rp_completed_jobs", WEEK,
       "is_unverified"),
    _k("rp.offline_record_pct", "Jobs recorded offline (spreadsheet)", "pct", "rp_reported_jobs",
       meets="is_offline_record"),
    # Complaints
    _k("cx.stage1_received", "Stage 1 complaints received", "count", "cx_received", WEEK),
    _k("cx.stage2_received", "Stage 2 escalations received", "count", "cx_stage2_requested", WEEK),
    _k("cx.stage1_per_1000_homes_fytd", "Stage 1 complaints per 1,000 homes, year to date (CH01)",
       "per_1000_homes", "cx_received", FYTD),
    _k("cx.stage2_per_1000_homes_fytd", "Stage 2 complaints per 1,000 homes, year to date (CH01)",
       "per_1000_homes", "cx_stage2_requested", FYTD),
    _k("cx.stage1_on_time_pct", "Stage 1 responses on time (CH02)", "pct", "cx_stage1_responses", WEEK,
       "is_on_time"),
    _k("cx.stage2_on_time_pct", "Stage 2 responses on time (CH02)", "pct", "cx_stage2_responses", WEEK,
       "is_on_time"),
    _k("cx.stage1_on_time_fytd_pct", "Stage 1 responses on time, year to date (CH02)", "pct",
       "cx_stage1_responses", FYTD, "is_on_time"),
    _k("cx.stage2_on_time_fytd_pct", "Stage 2 responses on time, year to date (CH02)", "pct",
       "cx_stage2_responses", FYTD, "is_on_time"),
    _k("cx.acknowledged_on_time_pct", "Complaints acknowledged on time", "pct", "cx_acknowledgements_due",
       meets="is_on_time"),
    _k("cx.open_complaints", "Open complaints", "count", "cx_open"),
    _k("cx.open_overdue", "Open complaints past their response deadline", "count", "cx_open",
       {"is_overdue": True}),
    _k("cx.escalation_rate_fytd_pct", "Stage 1 responses escalated to stage 2, year to date", "pct",
       "cx_stage1_responses", FYTD, "is_escalated"),
    _k("cx.upheld_pct", "Complaints upheld or partly upheld", "pct", "cx_final_responses",
       {"has_decided_outcome": True}, "is_upheld"),
    _k("cx.compensation_offered_gbp", "Compensation offered", "sum_gbp", "cx_final_responses",
       value="compensation_offered_gbp", unit="£"),
    _k("cx.ombudsman_maladministration_fytd", "Ombudsman maladministration findings, year to date", "count",
       "cx_ombudsman_maladministration"),
    # Contractors
    _k("ct.in_house_on_time_pct", "In-house repairs on time", "pct", "rp_completed_jobs",
       WEEK | {"is_in_house": True}, "is_on_time"),
    _k("ct.external_on_time_pct", "Contractor repairs on time", "pct", "rp_completed_jobs",
       WEEK | {"is_in_house": False}, "is_on_time"),
    _k("ct.in_house_first_time_fix_pct", "In-house repairs fixed first time", "pct", "rp_completed_jobs",
       WEEK | {"is_in_house": True}, "is_first_time_fix"),
    _k("ct.external_first_time_fix_pct", "Contractor repairs fixed first time", "pct", "rp_completed_jobs",
       WEEK | {"is_in_house": False}, "is_first_time_fix"),
    _k("ct.in_house_satisfaction_pct", "Residents satisfied, in-house repairs", "pct", "rp_job_surveys",
       {"is_in_house": True}, "satisfied"),
    _k("ct.external_satisfaction_pct", "Residents satisfied, contractor repairs", "pct", "rp_job_surveys",
       {"is_in_house": False}, "satisfied"),
    # Vulnerability and record keeping
    _k("vu.households_flagged_pct", "Households with a vulnerability recorded", "pct", "vu_households",
       meets="is_vulnerable_household"),
    _k("vu.census_coverage_pct", "Households' details confirmed in the last two years", "pct", "vu_households",
       meets="has_recent_census"),
    _k("vu.adjustment_recorded_pct", "Vulnerabilities with a reasonable adjustment recorded", "pct",
       "vu_vulnerability_records", meets="has_adjustment"),
    _k("vu.open_overdue_jobs_vulnerable", "Overdue repairs at vulnerable households", "count", "rp_open_jobs",
       {"is_overdue": True, "is_vulnerable_household": True}),
    _k("vu.open_complaints_vulnerable", "Open complaints from vulnerable households", "count", "cx_open",
       {"is_vulnerable_household": True}),
    _k("dq.dm_open_without_job", "Open serious damp and mould cases with no repair job", "count",
       "dm_open_cases", {"is_without_job": True}),
    _k("dq.validation_errors", "Extract validation errors", "count", "validation", {"severity": "error"}),
    _k("dq.validation_warning_rows", "Rows with data-quality warnings", "sum", "validation",
       {"severity": "warning"}, value="rows"),
)
KPIS: dict[str, Kpi] = {k.id: k for k in CATALOGUE}

# How each query behind a KPI is scoped (kpis.md "Scope"; the SQL rules are in queries/setup/3_scope.sql,
# and tests/test_scope.py checks each query against its declared kind).
QUERY_SCOPES: dict[str, ScopeKind] = {
    "dm_cases_reported": ScopeKind.ROWS,
    "dm_open_cases": ScopeKind.ROWS,
    "dm_clocks_due": ScopeKind.ROWS,
    "dm_resolved": ScopeKind.ROWS,
    "rp_completed_jobs": ScopeKind.ROWS,
    "rp_open_jobs": ScopeKind.ROWS,
    "rp_reported_jobs": ScopeKind.ROWS,
    "rp_suspected_not_fixed": ScopeKind.ROWS,
    "rp_appointments": ScopeKind.ROWS,
    "rp_job_surveys": ScopeKind.ROWS,
    "cx_received": ScopeKind.ROWS,
    "cx_stage2_requested": ScopeKind.ROWS,
    "cx_stage1_responses": ScopeKind.ROWS,
    "cx_stage2_responses": ScopeKind.ROWS,
    "cx_acknowledgements_due": ScopeKind.ROWS,
    "cx_open": ScopeKind.ROWS,
    "cx_final_responses": ScopeKind.ROWS,
    "cx_ombudsman_maladministration": ScopeKind.ROWS,
    "vu_households": ScopeKind.HOUSEHOLDS,
    "vu_vulnerability_records": ScopeKind.HOUSEHOLDS,
    "homes": ScopeKind.HOUSEHOLDS,
    "validation": ScopeKind.WHOLE_EXTRACT,
    "due_soon": ScopeKind.ROWS,  # not a KPI's: the "Due soon" list (due.py), scoped like its clocks' KPIs
}


def kpi(kpi_id: str) -> Kpi:
    try:
        return KPIS[kpi_id]
    except KeyError:
        raise ValueError(f"unknown KPI id {kpi_id!r} (see `kpis --json` for the ids)") from None


def query_rows(extract: Extract, query: str, as_of_dates: list[date], scope: Scope,
               ordered: bool = True) -> pl.DataFrame:
    """The rows of one `queries/` file for the as-of dates and scope (in its natural order if asked)."""
    if query == "validation":
        from housing_assurance.validate import findings_frame

        return findings_frame(extract).join(pl.DataFrame({"as_of": as_of_dates}), how="cross")
    return run_query(extract.con, query, {"as_of_dates": list(as_of_dates), **scope.params()}, ordered)


def homes(extract: Extract, as_of_dates: list[date], scope: Scope) -> pl.DataFrame:
    """as_of, homes: the per-1,000-homes denominator for each date."""
    return query_rows(extract, "homes", as_of_dates, scope)


def select_rows(rows: pl.DataFrame, k: Kpi) -> pl.DataFrame:
    """The rows behind one KPI, with `meets` for a ratio KPI."""
    for column, value in k.where.items():
        if isinstance(value, tuple):
            rows = rows.filter(pl.col(column).is_in(list(value)))
        else:
            rows = rows.filter(pl.col(column) == value)
    if k.kind == "pct":
        rows = rows.with_columns(meets=pl.col(k.meets).fill_null(False))
    return rows


def aggregate(rows: pl.DataFrame, k: Kpi, dates: pl.DataFrame, homes: pl.DataFrame | None) -> pl.DataFrame:
    """A KPI's figure per as_of from its rows: value, numerator, denominator as kpis.md defines them.

    Rows may carry a row count `n` (the figure store keeps rows grouped); without it each row counts
    once. `dates` lists the figures wanted: one per as_of, or (when it also has a scope_key column,
    as when a store is prepared) one per scope and as_of, `rows` and `homes` then carrying it too.
    Dates with no rows get 0 for counts and sums and null for ratios, medians and means.
    """
    keys = [c for c in ("scope_key", "as_of") if c in dates.columns]
    if "n" not in rows.columns:
        rows = rows.with_columns(n=pl.lit(1, pl.Int64))
    by = rows.group_by(keys)
    if k.kind == "pct":
        agg = by.agg(numerator=pl.col("n").filter(pl.col("meets")).sum().cast(pl.Int64),
                     denominator=pl.col("n").sum().cast(pl.Int64))
        fig = dates.join(agg, on=keys, how="left").with_columns(
            numerator=pl.col("numerator").fill_null(0), denominator=pl.col("denominator").fill_null(0))
        fig = fig.with_columns(value=pl.when(pl.col("denominator") > 0)
                               .then(pl.col("numerator") / pl.col("denominator") * 100))
    elif k.kind == "per_1000_homes":
        if homes is None:
            raise ValueError(f"{k.id} needs the homes denominator")
        agg = by.agg(numerator=pl.col("n").sum().cast(pl.Int64))
        fig = (dates.join(agg, on=keys, how="left").join(homes, on=keys, how="left")
               .with_columns(numerator=pl.col("numerator").fill_null(0),
                             denominator=pl.col("homes").fill_null(0).cast(pl.Int64)))
        fig = fig.with_columns(value=pl.when(pl.col("denominator") > 0)
                               .then(pl.col("numerator") / pl.col("denominator") * 1000))
    else:
        fill: float | None = 0.0
        if k.kind == "count":
            agg = by.agg(value=pl.col("n").sum().cast(pl.Float64))
        elif k.kind == "median":
            agg = by.agg(value=pl.col(k.value_column).cast(pl.Float64).median())
            fill = None
        elif k.kind == "mean":  # values sorted first: the same figure whatever order the rows come in
            agg = by.agg(value=pl.col(k.value_column).cast(pl.Float64).sort().mean())
            fill = None
        else:  # sum, sum_gbp (sorted first, as a mean)
            agg = by.agg(value=pl.col(k.value_column).cast(pl.Float64).fill_null(0).sort().sum())
        fig = dates.join(agg, on=keys, how="left").with_columns(
            value=pl.col("value").fill_null(fill) if fill is not None else pl.col("value"),
            numerator=pl.lit(None, pl.Int64), denominator=pl.lit(None, pl.Int64))
    return fig.select(
        *keys, pl.lit(k.id).alias("kpi_id"), pl.col("value").cast(pl.Float64),
        pl.col("numerator").cast(pl.Int64), pl.col("denominator").cast(pl.Int64))


def compute(extract: Extract, as_of_dates: list[date], scope: Scope = WHOLE_LANDLORD,
            kpi_ids: list[str] | None = None) -> pl.DataFrame:
    """One row per (as_of, kpi_id): value, numerator, denominator, as kpis.md defines them."""
    wanted = [kpi(i) for i in kpi_ids] if kpi_ids else list(CATALOGUE)
    dates = pl.DataFrame({"as_of": as_of_dates}, schema={"as_of": pl.Date})
    queries = list(dict.fromkeys(k.query for k in wanted))
    # Two queries at a time (each on its own cursor): the short queries leave a core idle.
    with ThreadPoolExecutor(max_workers=2) as pool:
        rows = pool.map(lambda q: query_rows(extract, q, as_of_dates, scope, ordered=False), queries)
        rows_by_query = dict(zip(queries, rows, strict=True))
    needs_homes = any(k.kind == "per_1000_homes" for k in wanted)
    homes_by_date = homes(extract, as_of_dates, scope) if needs_homes else None
    out = [aggregate(select_rows(rows_by_query[k.query], k), k, dates, homes_by_date) for k in wanted]
    return pl.concat(out) if out else pl.DataFrame()


def cases(extract: Extract, as_of: date, kpi_id: str, scope: Scope = WHOLE_LANDLORD) -> pl.DataFrame:
    """The rows behind one KPI for one week, in the query's natural order (oldest or most overdue first)."""
    k = kpi(kpi_id)
    rows = select_rows(query_rows(extract, k.query, [as_of], scope), k)
    front = ["id"] + (["meets"] if k.kind == "pct" else [])
    return rows.select(front + [c for c in rows.columns if c not in front])


def trend(extract: Extract, as_of: date, weeks: int, scope: Scope = WHOLE_LANDLORD,
          kpi_ids: list[str] | None = None) -> pl.DataFrame:
    """Any KPI for the 13 or 52 weeks ending on as_of."""
    return compute(extract, weeks_ending(as_of, weeks), scope, kpi_ids)
