"""The contractor scorecard of kpis.md ("Contractors"): one row per contractor over the 13 weeks ending D.

The figures are written once, in queries/ct_contractor_scorecard.sql; this module runs
that query for one as-of date and scope. The weekly contractor KPIs (ct.*) live in the
KPI catalogue (housing_assurance.kpis) like every other KPI.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from housing_assurance.db import Extract
from housing_assurance.kpis import query_rows
from housing_assurance.scope import WHOLE_LANDLORD, Scope

SCORECARD_QUERY = "ct_contractor_scorecard"

# The columns a reader sees, in order, with their headings (the query returns more: the counts behind each %).
SCORECARD_COLUMNS: dict[str, str] = {
    "contractor_name": "Contractor",
    "is_in_house": "In-house",
    "jobs_completed": "Jobs completed",
    "on_time_pct": "On time %",
    "first_time_fix_pct": "First-time fix %",
    "follow_on_jobs_pct": "Follow-on jobs %",
    "no_access_pct": "No access %",
    "landlord_missed_pct": "Landlord-missed %",
    "satisfaction_pct": "Satisfaction %",
    "avg_cost_gbp": "Average cost £",
}


def contractor_scorecard(extract: Extract, as_of: date, scope: Scope = WHOLE_LANDLORD) -> pl.DataFrame:
    """One row per contractor with work in scope in the 13 weeks ending `as_of` (D-90 … D).

    Percentages are 0-100 and unrounded, null when there is nothing to divide; the
    average cost is null when no completed job has a cost. Rows come worst on-time
    first. Each percentage's numerator and denominator are columns too (for example
    jobs_on_time / jobs_completed, no_access_appointments / appointments).
    """
    rows = query_rows(extract, SCORECARD_QUERY, [as_of], scope)
    return rows.drop("as_of")
