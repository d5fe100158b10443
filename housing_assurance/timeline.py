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
from housing_assurance.kpis import WHOLE_LANDLORD, Scope

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


def find(extract: Extract, case_id: str) -> pl.DataFrame:
    """Every case, job or complaint with this id (normally one), with its home and team."""
    return extract.query("case_find", case_id=case_id.strip(), as_of=known_at(extract).date())


def case_in_scope(place: dict, scope: Scope) -> bool:
    """Whether the scope (a user's, later) covers this case: its home's region and its team."""
    if scope.region is not None and place.get("region") != scope.region:
        return False
    return scope.teams is None or place.get("team_id") in scope.teams


def _linked(events: pl.DataFrame, kind: str, case_id: str) -> pl.Series:
    """Which events belong to the case itself (the rest happened at the same home)."""
    if kind == "dm":
        jobs = events.filter(pl.col("case_id") == case_id)["job_id"].drop_nulls().unique().to_list()
        return (pl.col("case_id") == case_id) | pl.col("job_id").is_in(jobs)
    if kind == "job":
        return pl.col("job_id") == case_id
    return pl.col("complaint_id") == case_id


def _teams_only(frame: pl.DataFrame, teams: tuple[str, ...] | None, keep: pl.Expr | None = None) -> pl.DataFrame:
    """The rows of the teams given (all rows when None), and rows tied to no team (they are the home's)
    or that `keep` marks (the case's own events, whichever team's job they come from)."""
    if teams is None or frame.is_empty():
        return frame
    visible = pl.col("team_id").is_null() | pl.col("team_id").is_in(list(teams))
    return frame.filter(visible | keep if keep is not None else visible)


def story(extract: Extract, case_id: str, kind: str | None = None,
          scope: Scope = WHOLE_LANDLORD, allowed: Scope = WHOLE_LANDLORD) -> CaseStory | None:
    """The story of one case; None when no case, job or complaint has this id (of this kind).

    `scope` is the view's (is the case in it?); `allowed` is the user's: a user scoped to teams
    sees the home's events and other reports of those teams only, and how many were left out.
    """
    found = find(extract, case_id)
    if kind:
        found = found.filter(pl.col("kind") == kind)
    if found.is_empty():
        return None
    place = found.row(0, named=True)
    kind, case_id = place["kind"], place["id"]
    now = known_at(extract)
    events = extract.query("case_events", property_id=place["property_id"])
    events = events.with_columns(linked=_linked(events, kind, case_id).fill_null(False))
    other = pl.DataFrame()
    if kind == "dm":
        record = extract.query("case_dm_record", case_id=case_id).row(0, named=True)
        clocks = extract.query("case_clocks", case_id=case_id, known_at=now)
        other = extract.query("case_home_reports", property_id=place["property_id"], case_id=case_id,
                              started_at=place["started_at"])
    elif kind == "job":
        record = extract.query("case_job_record", job_id=case_id, known_at=now).row(0, named=True)
        clocks = pl.DataFrame([{
            "clock": "Completed by the landlord's target", "started_at": record["reported_at"],
            "due_by": record["target_at"], "action_at": record["completed_at"], "status": record["target_status"],
        }])
        other = extract.query("case_home_reports", property_id=place["property_id"], case_id=None,
                              started_at=place["started_at"])
    else:
        record = extract.query("case_complaint_record", complaint_id=case_id).row(0, named=True)
        clocks = extract.query("case_complaint_clocks", complaint_id=case_id, known_at=now)
        other = extract.query("case_home_reports", property_id=place["property_id"], case_id=None,
                              started_at=place["started_at"])
    shown_events = _teams_only(events, allowed.teams, keep=pl.col("linked"))
    shown_other = _teams_only(other, allowed.teams)
    return CaseStory(kind, case_id, place, record, shown_events, clocks, shown_other,
                     case_in_scope(place, scope), len(events) - len(shown_events), len(other) - len(shown_other))
