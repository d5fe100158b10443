"""Which figures are a team's work: a damp and mould team's page should not show "0 ✓ On target" for
complaints it never handles. A figure is outside a team scope's remit when none of its teams has a
single record of the figure's kind (repairs, damp and mould cases, complaints) anywhere in the extract
(queries/team_work.sql). Household-level and whole-extract figures belong to every scope.
"""

from __future__ import annotations

import polars as pl

from housing_assurance.db import Extract
from housing_assurance.kpis import KPIS, Kpi
from housing_assurance.scope import Scope

# The records a KPI counts, by its query's family (team_work.sql's columns).
RECORDS = {"dm": "damp_mould_cases", "rp": "repairs", "cx": "complaints"}
WORK_WORDS = {"damp_mould_cases": "damp and mould cases", "repairs": "repairs", "complaints": "complaints"}


def records_of(k: Kpi) -> str | None:
    """The kind of record a KPI counts (None: households, homes or the extract, every scope's)."""
    return RECORDS.get(k.query.split("_")[0])


def outside_remit(extract: Extract, scope: Scope, kpi_ids: list[str] | tuple[str, ...]) -> dict[str, str]:
    """KPI id -> the work its scope's teams do not do ("complaints"), for the KPIs outside the remit."""
    if not scope.teams:
        return {}
    work = extract.query("team_work").filter(pl.col("team_id").is_in(list(scope.teams)))
    done = {column for column in RECORDS.values() if work[column].sum() > 0}
    out = {}
    for kpi_id in kpi_ids:
        kind = records_of(KPIS[kpi_id])
        if kind is not None and kind not in done:
            out[kpi_id] = WORK_WORDS[kind]
    return out

