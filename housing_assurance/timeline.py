"""One case's whole story: what happened at the home, its clocks and deadlines, earlier reports.

The Case page accepts a damp and mould case id, a repair job id or a complaint id. Everything is
read from the extract as it stands (the story as known when the extract was taken), with the SQL in
queries/case_*.sql. The household's vulnerability is only ever a flag here, never its nature.
No Streamlit here, so the PDF pack or a test can tell the same story.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import polars as pl

from housing_assurance.db import Extract
from housing_assurance.scope import WHOLE_LANDLORD, Scope

KINDS = {"dm": "Damp and mould case", "job": "Repair job", "complaint": "Complaint"}
LANES = ("Damp and mould", "Repair jobs", "Appointments", "Contacts", "Complaints", "Surveys")


@dataclass
class CaseStory:
    kind: str  # dm, job or complaint
    id: str
    place: dict  # the home, team, region, and the vulnerable-household flag
    record: dict  # the case, job or complaint as recorded
    events: pl.DataFrame  # event_at, lane, event, detail, ref_id, linked (this case's own events)
    clocks: pl.DataFrame  # dm: Awaab's Law clocks; complaint: CHC deadlines; job: its target
    other_reports: pl.DataFrame = field(default_factory=pl.DataFrame)  # the home's other dm cases
    in_scope: bool = True
    # Entries at the home that belong to teams the user may not see: timeline events, other reports.
    withheld_events: int = 0
    withheld_reports: int = 0

    @property
    def title(self) -> str:
        return f"{KINDS[self.kind]} {self.id}"


def known_at(extract: Extract) -> datetime:
    """The moment the story is told as of: when the extract was taken."""
    return extract.extracted_at or datetime.now().replace(microsecond=0)


def find(extract: Extract, case_id: str, scope: Scope = WHOLE_LANDLORD,
         allowed: Scope = WHOLE_LANDLORD) -> pl.DataFrame:
    """Every case, job or complaint with this id (normally one), with its home and team, and whether
    the view's scope counts it (in_view) and the user's own scope may see it (in_user_scope)."""
    return extract.query("case_find", case_id=case_id.strip(), as_of=known_at(extract).date(), **scope.params(),
                         allowed_region=allowed.region,
                         allowed_teams=list(allowed.teams) if allowed.teams is not None else None)


def _linked(events: pl.DataFrame, kind: str, case_id: str) -> pl.Series:
    """Which events belong to the case itself (the rest happened at the same home)."""
    if kind == "dm":
        jobs = events.filter(pl.col("case_id") == case_id)["job_id"].drop_nulls().unique().to_list()
        return (pl.col("case_id") == case_id) | pl.col("job_id").is_in(jobs)
    if kind == "job":
        return pl.col("job_id") == case_id
    return pl.col("complaint_id") == case_id


def story(extract: Extract, case_id: str, kind: str | None = None,
          scope: Scope = WHOLE_LANDLORD, allowed: Scope = WHOLE_LANDLORD) -> CaseStory | None:
    """The story of one case; None when no case, job or complaint has this id (of this kind).

    `scope` is the view's (is the case in it?); `allowed` is the user's: a user scoped to teams
    sees the case's own events, and of the rest of the home's records only those their scope may
    see (the SQL scope rule), with how many were left out.
    """
    found = find(extract, case_id, scope, allowed)
    if kind:
        found = found.filter(pl.col("kind") == kind)
    if found.is_empty():
        return None
    place = found.row(0, named=True)
    kind, case_id = place["kind"], place["id"]
    now = known_at(extract)
    home = {"property_id": place["property_id"], **allowed.params()}
    events = extract.query("case_events", **home)
    events = events.with_columns(linked=_linked(events, kind, case_id).fill_null(False))
    if kind == "dm":
        record = extract.query("case_dm_record", case_id=case_id).row(0, named=True)
        clocks = extract.query("case_clocks", case_id=case_id, known_at=now)
    elif kind == "job":
        record = extract.query("case_job_record", job_id=case_id, known_at=now).row(0, named=True)
        clocks = pl.DataFrame([{
            "clock": "Completed by the landlord's target", "started_at": record["reported_at"],
            "due_by": record["target_at"], "action_at": record["completed_at"], "status": record["target_status"],
        }])
    else:
        record = extract.query("case_complaint_record", complaint_id=case_id).row(0, named=True)
        clocks = extract.query("case_complaint_clocks", complaint_id=case_id, known_at=now)
    other = extract.query("case_home_reports", case_id=case_id if kind == "dm" else None,
                          started_at=place["started_at"], **home)
    shown_events = events.filter(pl.col("in_scope") | pl.col("linked")).drop("in_scope")
    shown_other = other.filter(pl.col("in_scope")).drop("in_scope")
    return CaseStory(kind, case_id, place, record, shown_events, clocks, shown_other,
                     bool(place["in_view"]), len(events) - len(shown_events), len(other) - len(shown_other))
