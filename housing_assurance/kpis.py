"""Every KPI of shared/spec/kpis.md, computed from the case rows behind it.

Each KPI names a query in `queries/` that lists the rows behind it (one row per
case, job, complaint stage, survey … per as-of date), a filter on those rows and
how the rows become a figure. The figure is always an aggregate of exactly the
rows the drill-down shows, so a drill-down can never disagree with its figure.
The same functions serve the app, the PDF pack and the command line.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Literal

import polars as pl

from housing_assurance.db import Extract, run_query, run_query_over
from housing_assurance.scope import WHOLE_LANDLORD, Scope, ScopeKind
from housing_assurance.weeks import weeks_ending

Kind = Literal["pct", "count", "per_1000_homes", "median", "mean", "sum", "sum_gbp"]
Period = Literal["week", "end of week", "financial year", "30 days", "on D", "extract"]

# What period a KPI's rows come from, in a reader's words (kpis.md "Common rules").
PERIOD_WORDS: dict[str, str] = {
    "week": "the reporting week (Monday to Sunday)",
    "end of week": "as things stood at the end of the week (Sunday midnight)",
    "financial year": "the financial year to date (from 1 April)",
    "30 days": "the 30 days up to the end of the week",
    "on D": "on the week's last day",
    "extract": "the extract as a whole (not scoped)",
}
# The period of each query whose rows are not marked in_week or in_fytd by the KPI's filter.
QUERY_PERIODS: dict[str, Period] = {
    "dm_open_cases": "end of week", "rp_open_jobs": "end of week", "cx_open": "end of week",
    "dm_clocks_due": "week", "dm_resolved": "week", "rp_reported_jobs": "week", "rp_appointments": "week",
    "rp_job_surveys": "week", "cx_acknowledgements_due": "week", "cx_final_responses": "week",
    "rp_suspected_not_fixed": "30 days", "cx_ombudsman_maladministration": "financial year",
    "vu_households": "on D", "vu_vulnerability_records": "on D", "validation": "extract",
}


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
    counts: str = ""  # what is counted, in words (for a percentage: its denominator)
    meets_words: str | None = None  # a percentage's numerator among them, in words

    @property
    def domain(self) -> str:
        return self.id.split(".")[0]

    @property
    def period(self) -> Period:
        if self.where.get("in_week"):
            return "week"
        if self.where.get("in_fytd"):
            return "financial year"
        return QUERY_PERIODS[self.query]

    @property
    def is_weekly_flow(self) -> bool:
        """Counted from the week's events (not a state at the end of the week): weeks can be added up."""
        return self.period == "week"


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
# Each KPI in words (kpis.md, for a reader): `rows` is what is counted (for a percentage, its denominator),
# `meets` the numerator among them (percentages only).
DEFINITIONS: dict[str, tuple[str, str | None]] = {
    "dm.new_cases": ("damp and mould cases reported in the week", None),
    "dm.open_cases": ("damp and mould cases open at the end of the week (reported and not closed)", None),
    "dm.open_cases_per_1000_homes": ("damp and mould cases open at the end of the week", None),
    "dm.open_emergency_cases": ("open damp and mould cases whose hazard is an emergency", None),
    "dm.open_unassessed_cases": ("open damp and mould cases not yet investigated", None),
    "dm.open_cases_vulnerable": ("open damp and mould cases at households with a vulnerability recorded", None),
    "dm.emergency_made_safe_24h_pct": ("emergency hazard cases whose 24-hour deadline fell in the week",
                                       "both investigated and made safe within 24 hours of the report"),
    "dm.investigated_10wd_pct": ("cases (not emergencies) whose 10-working-day investigation deadline fell in "
                                 "the week", "investigated by the deadline"),
    "dm.summary_3wd_pct": ("investigated cases whose written-summary deadline (3 working days after the "
                           "investigation) fell in the week", "sent the summary by the deadline"),
    "dm.safety_work_5wd_pct": ("significant hazards whose safety-work deadline (5 working days after the "
                               "investigation) fell in the week", "had the safety work done by the deadline"),
    "dm.further_work_12wk_pct": ("cases needing further work whose 12-week deadline fell in the week",
                                 "had the further work started by the deadline"),
    "dm.overdue_open_cases": ("open damp and mould cases with an Awaab's Law deadline passed and its action not "
                              "done (breaches still running)", None),
    "dm.resolved_median_days": ("the median days from report to resolution, over cases resolved in the week",
                                None),
    "dm.repeat_cases_pct": ("damp and mould cases reported in the week",
                            "at a home with another case in the year before, or reopening a case"),
    "dm.cases_fytd_per_1000_homes": ("damp and mould cases reported this financial year", None),
    "rp.emergency_on_time_pct": ("emergency repairs at rented homes completed in the week",
                                 "completed by their target time"),
    "rp.non_emergency_on_time_pct": ("urgent and routine repairs at rented homes completed in the week",
                                     "completed by their target time"),
    "rp.open_jobs": ("responsive repairs open at the end of the week (not completed or cancelled)", None),
    "rp.open_overdue_jobs": ("open responsive repairs past their target time", None),
    "rp.avg_days_to_complete": ("the average days from report to completion, over responsive repairs "
                                "completed in the week", None),
    "rp.first_time_fix_pct": ("responsive repairs completed in the week",
                              "done in exactly one attended visit with no follow-on job"),
    "rp.repeat_repairs_pct": ("responsive repairs reported in the week",
                              "at a home with a repair of the same kind completed in the 30 days before"),
    "rp.suspected_not_fixed": ("responsive repairs completed in the last 30 days followed within 14 days by a "
                               "chase or a new repair of the same kind at the home", None),
    "rp.repeat_contact_open_jobs": ("open responsive repairs the resident has chased three or more times", None),
    "rp.no_access_pct": ("appointments due in the week with an outcome recorded", "where we could not get in"),
    "rp.landlord_missed_pct": ("appointments due in the week with an outcome recorded",
                               "cancelled by us or missed by the operative"),
    "rp.satisfaction_pct": ("repair satisfaction surveys answered in the week", "satisfied"),
    "rp.unverified_completion_pct": ("responsive repairs completed in the week",
                                     "whose completion was not verified"),
    "rp.offline_record_pct": ("repairs reported in the week", "recorded on a spreadsheet, not the housing system"),
    "cx.stage1_received": ("complaints received in the week", None),
    "cx.stage2_received": ("complaints escalated to stage 2 in the week", None),
    "cx.stage1_per_1000_homes_fytd": ("stage 1 complaints received this financial year", None),
    "cx.stage2_per_1000_homes_fytd": ("stage 2 escalations this financial year", None),
    "cx.stage1_on_time_pct": ("stage 1 responses sent in the week",
                              "sent by the deadline (10 working days after acknowledging, or an agreed extension)"),
    "cx.stage2_on_time_pct": ("stage 2 responses sent in the week",
                              "sent by the deadline (20 working days after acknowledging, or an agreed extension)"),
    "cx.stage1_on_time_fytd_pct": ("stage 1 responses sent this financial year", "sent by the deadline"),
    "cx.stage2_on_time_fytd_pct": ("stage 2 responses sent this financial year", "sent by the deadline"),
    "cx.acknowledged_on_time_pct": ("acknowledgements (both stages) due in the week",
                                    "acknowledged within 5 working days"),
    "cx.open_complaints": ("complaints open at the end of the week (a stage awaiting its response)", None),
    "cx.open_overdue": ("open complaints past their current stage's response deadline", None),
    "cx.escalation_rate_fytd_pct": ("stage 1 responses sent this financial year", "escalated to stage 2"),
    "cx.upheld_pct": ("complaints given their final response in the week with an outcome recorded",
                      "upheld or partly upheld"),
    "cx.compensation_offered_gbp": ("compensation offered on complaints given their final response in the week",
                                    None),
    "cx.ombudsman_maladministration_fytd": ("Housing Ombudsman findings of maladministration or severe "
                                            "maladministration this financial year", None),
    "ct.in_house_on_time_pct": ("responsive repairs by our own workforce completed in the week",
                                "completed by their target time"),
    "ct.external_on_time_pct": ("responsive repairs by contractors completed in the week",
                                "completed by their target time"),
    "ct.in_house_first_time_fix_pct": ("responsive repairs by our own workforce completed in the week",
                                       "fixed first time"),
    "ct.external_first_time_fix_pct": ("responsive repairs by contractors completed in the week",
                                       "fixed first time"),
    "ct.in_house_satisfaction_pct": ("satisfaction surveys answered in the week on our own workforce's repairs",
                                     "satisfied"),
    "ct.external_satisfaction_pct": ("satisfaction surveys answered in the week on contractors' repairs",
                                     "satisfied"),
    "vu.households_flagged_pct": ("households whose tenancy covers the week's last day",
                                  "with a vulnerability recorded"),
    "vu.census_coverage_pct": ("households whose tenancy covers the week's last day",
                               "whose details were confirmed in the last two years"),
    "vu.adjustment_recorded_pct": ("vulnerabilities recorded for those households",
                                   "with a reasonable adjustment recorded"),
    "vu.open_overdue_jobs_vulnerable": ("open repairs past target at households with a vulnerability recorded",
                                        None),
    "vu.open_complaints_vulnerable": ("open complaints from households with a vulnerability recorded", None),
    "dq.dm_open_without_job": ("open emergency or significant damp and mould cases with no repair job raised",
                               None),
    "dq.validation_errors": ("tables of the extract that break the data contract (whole extract)", None),
    "dq.validation_warning_rows": ("rows of the extract used but doubtful (whole extract)", None),
}

CATALOGUE = tuple(replace(k, counts=DEFINITIONS[k.id][0], meets_words=DEFINITIONS[k.id][1]) for k in CATALOGUE)
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


# The contract table whose rows each KPI query lists (its `id` is that table's primary key, with the stage
# for a complaint's stages). When the extract could not use that table (validation's errors: missing,
# unreadable, a column that cannot be cast, a duplicate key), the query's figures are withheld (null),
# never 0: its rows were never read. tests/test_kpis_on_demo.py checks each against the rows' ids.
QUERY_ROWS_OF: dict[str, str] = {
    "dm_cases_reported": "damp_mould_cases",
    "dm_open_cases": "damp_mould_cases",
    "dm_clocks_due": "damp_mould_cases",
    "dm_resolved": "damp_mould_cases",
    "rp_completed_jobs": "repairs",
    "rp_open_jobs": "repairs",
    "rp_reported_jobs": "repairs",
    "rp_suspected_not_fixed": "repairs",
    "rp_appointments": "appointments",
    "rp_job_surveys": "surveys",
    "cx_received": "complaints",
    "cx_stage2_requested": "complaints",
    "cx_stage1_responses": "complaints",
    "cx_stage2_responses": "complaints",
    "cx_acknowledgements_due": "complaints",
    "cx_open": "complaints",
    "cx_final_responses": "complaints",
    "cx_ombudsman_maladministration": "complaints",
    "vu_households": "households",
    "vu_vulnerability_records": "vulnerabilities",
}


def withheld(extract: Extract, kpis: Iterable[Kpi]) -> set[str]:
    """The KPIs that count the rows of a table the extract could not use."""
    unusable = extract.unusable_tables
    return {k.id for k in kpis if QUERY_ROWS_OF.get(k.query) in unusable} if unusable else set()


def withhold(figures: pl.DataFrame, kpi_ids: set[str]) -> pl.DataFrame:
    """Figures with those KPIs' value, numerator and denominator null ("—"), not the 0 of no rows."""
    if not kpi_ids or figures.is_empty():
        return figures
    gone = pl.col("kpi_id").is_in(sorted(kpi_ids))
    return figures.with_columns(pl.when(gone).then(None).otherwise(pl.col(c)).alias(c)
                                for c in ("value", "numerator", "denominator"))


def kpi(kpi_id: str) -> Kpi:
    try:
        return KPIS[kpi_id]
    except KeyError:
        raise ValueError(f"unknown KPI id {kpi_id!r} (see `kpis --json` for the ids)") from None


def counts_outside_the_week(query: str) -> bool:
    """Whether a KPI of the query counts rows from outside the reporting week (its year to date, say)."""
    return any(not k.where.get("in_week") for k in CATALOGUE if k.query == query)


def query_params(query: str, as_of_dates: list[date], scope: Scope, with_fytd: bool | None = None) -> dict:
    """A KPI query's parameters. A query that takes $with_fytd lists the financial year to date's rows as
    well as the week's only when they are wanted: by default when one of its KPIs counts them; the TSM
    return asks for them. A query that does not take it lists them always."""
    wanted = counts_outside_the_week(query) if with_fytd is None else with_fytd
    return {"as_of_dates": list(as_of_dates), "with_fytd": wanted, **scope.params()}


def query_rows(extract: Extract, query: str, as_of_dates: list[date], scope: Scope,
               ordered: bool = True, with_fytd: bool | None = None) -> pl.DataFrame:
    """The rows of one `queries/` file for the as-of dates and scope (in its natural order if asked)."""
    if query == "validation":
        from housing_assurance.validate import findings_frame

        return findings_frame(extract).join(pl.DataFrame({"as_of": as_of_dates}), how="cross")
    return run_query(extract.con, query, query_params(query, as_of_dates, scope, with_fytd), ordered)


def scoped_rows_query(query: str) -> str:
    """The query that keeps a scope's rows out of the whole landlord's rows of `query` (by its scope kind)."""
    return "figure_rows_by_households" if QUERY_SCOPES[query] is ScopeKind.HOUSEHOLDS else "figure_rows_by_rows"


def rows_in_scope(extract: Extract, query: str, whole: pl.DataFrame, as_of_dates: list[date],
                  scope: Scope) -> pl.DataFrame:
    """A scope's rows of a query from the whole landlord's rows of the same dates: the rows the one SQL
    scope rule keeps (queries/figure_rows_by_*.sql, as the figure store reads its kept rows), in the same
    order. Equal to query_rows for the scope (kpis.md: the scope chooses which rows are counted; every
    look-back searches the whole extract), as tests/test_kpis_on_demo.py checks for every query."""
    if QUERY_SCOPES[query] is ScopeKind.WHOLE_EXTRACT or scope.is_whole_landlord:
        return whole
    return run_query_over(extract.con, scoped_rows_query(query), {"whole_rows": whole},
                          {"rows_table": "whole_rows", "as_of_dates": list(as_of_dates), **scope.params()})


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
    return withhold(pl.concat(out), withheld(extract, wanted)) if out else pl.DataFrame()


def cases(extract: Extract, as_of: date, kpi_id: str, scope: Scope = WHOLE_LANDLORD) -> pl.DataFrame:
    """The rows behind one KPI for one week, in the query's natural order (oldest or most overdue first)."""
    k = kpi(kpi_id)
    return cases_from_rows(query_rows(extract, k.query, [as_of], scope), k)


def cases_from_rows(rows: pl.DataFrame, k: Kpi) -> pl.DataFrame:
    """`cases` from its query's rows for one week (several KPIs read one query: the app runs it once for them)."""
    rows = select_rows(rows, k)
    front = ["id"] + (["meets"] if k.kind == "pct" else [])
    return rows.select(front + [c for c in rows.columns if c not in front])


def trend(extract: Extract, as_of: date, weeks: int, scope: Scope = WHOLE_LANDLORD,
          kpi_ids: list[str] | None = None) -> pl.DataFrame:
    """Any KPI for the 13 or 52 weeks ending on as_of."""
    return compute(extract, weeks_ending(as_of, weeks), scope, kpi_ids)
