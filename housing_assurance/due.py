"""The "Due soon" list (kpis.md): every open legal clock falling due in the next five working days.

What a manager acts on: Awaab's Law clocks of open damp and mould cases and the current stage's
acknowledgement and response clocks of open complaints, not yet met and not yet breached, due by the
end of the fifth working day after D (queries/due_soon.sql; the window in clocks.py). The app's domain
pages, the `due` command and the weekly manager digest all read it from here.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from housing_assurance import clocks
from housing_assurance.db import Extract
from housing_assurance.kpis import query_rows
from housing_assurance.scope import WHOLE_LANDLORD, Scope
from housing_assurance.workdays import add_working_days

DAMP_MOULD = "damp_mould_case"
COMPLAINT = "complaint"


def due_soon(extract: Extract, as_of: date, scope: Scope = WHOLE_LANDLORD, kind: str | None = None) -> pl.DataFrame:
    """The list at D for a scope, soonest deadline first (one row per clock); `kind` keeps one domain's."""
    rows = query_rows(extract, "due_soon", [as_of], scope).drop("as_of")
    return rows if kind is None else rows.filter(pl.col("kind") == kind)


def window_last_day(as_of: date) -> date:
    """The last day the list looks ahead to: the fifth working day after D (bank holidays excluded)."""
    window = clocks.DUE_SOON_WINDOW
    return add_working_days(as_of, window.length)


def as_json(rows: pl.DataFrame) -> list[dict]:
    """The `due --json` objects (interfaces.md): id, clock, deadline (the last instant that meets it),
    team_id and vulnerable."""
    return [{"id": r["id"], "clock": r["clock"], "deadline": r["due_by"].isoformat(), "team_id": r["team_id"],
             "vulnerable": bool(r["is_vulnerable_household"])} for r in rows.iter_rows(named=True)]
