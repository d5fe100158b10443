"""Scope, once: which rows a region, a team or a user's teams count (kpis.md "Scope").

The rule itself is SQL (queries/setup/scope.sql: `in_scope` for rows, `scope_regions` for homes and
households), and every figure and list is scoped there. This module holds what Python needs around
it: the Scope value that travels as bound parameters, how a user's scope narrows a request, which
kind of scope each KPI query takes (declared here, checked against the SQL by tests/test_scope.py),
and the one answer to "is there such a region or team?".

A team with no region (teams.region is required: a not_null warning) still works everywhere: its
scope counts its own rows, and its homes and households are none (scope_regions has no region to
give), so its per-1,000-homes figures are "—" and its household figures 0. A home with no region is
in the whole landlord's figures only.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from housing_assurance.db import Extract, fetch_rows


@dataclass(frozen=True)
class Scope:
    """Which rows count: a region, a set of teams, both, or (neither) the whole landlord."""

    region: str | None = None
    teams: tuple[str, ...] | None = None

    def params(self) -> dict:
        """The scope as the queries' bound parameters."""
        return {
            "scope_region": self.region,
            "scope_teams": list(self.teams) if self.teams is not None else None,
        }

    def as_json(self) -> dict:
        """The scope the figures are for, as `kpis --json` names it: {"region", "team"}, null for all; a
        manager's teams (--as-user) as one team_id, or a list when they manage several (none: [])."""
        if self.teams is None:
            team: str | list[str] | None = None
        elif len(self.teams) == 1:
            team = self.teams[0]
        else:
            team = list(self.teams)
        return {"region": self.region, "team": team}

    @property
    def is_whole_landlord(self) -> bool:
        return self.region is None and self.teams is None

    @property
    def key(self) -> str:
        """The scope as one text, as a prepared store's figures table names it: whole, region:North,
        teams:a,b (teams sorted), or both joined by |."""
        parts = []
        if self.region is not None:
            parts.append(f"region:{self.region}")
        if self.teams is not None:
            parts.append("teams:" + ",".join(sorted(self.teams)))
        return "|".join(parts) or "whole"


WHOLE_LANDLORD = Scope()


class ScopeKind(Enum):
    """How a query's rows are scoped (kpis.md "Scope")."""

    ROWS = "rows"  # a row counts when its home is in the region and its team is one of the teams
    HOUSEHOLDS = "households"  # households and homes of the scope's regions (R, or the teams' regions)
    WHOLE_EXTRACT = "whole extract"  # about the extract itself, never scoped (validation findings)


def narrow(allowed: Scope, region: str | None = None, team: str | None = None) -> Scope:
    """A requested region/team inside the user's scope: the narrower of the two applies."""
    if allowed.region is not None and region is not None and region != allowed.region:
        return Scope(region=allowed.region, teams=())
    teams = allowed.teams
    if team is not None:
        teams = (team,) if teams is None or team in teams else ()
    return Scope(region=region or allowed.region, teams=teams)


def unknown_names(extract: Extract, region: str | None, teams: tuple[str, ...] | None) -> list[str]:
    """What in a requested scope the extract does not know, in words (empty when all is known).

    The one answer to "is there such a region or team?": the pack refuses such a scope, the command
    line notes it (kpis.md: an unknown region gives counts of 0 and ratios of null) and the app says so.
    """
    if region is None and not teams:
        return []
    known = fetch_rows(extract.con, "names")
    regions = [r["id"] for r in known if r["kind"] == "region"]
    team_ids = {r["id"] for r in known if r["kind"] == "team"}
    problems = []
    if region is not None and region not in regions:
        problems.append(f"region {region!r} does not appear in the extract (regions: {', '.join(regions) or 'none'})")
    for team in teams or ():
        if team not in team_ids:
            problems.append(f"team {team!r} does not appear in the extract's teams table "
                            "(use a team_id, for example repairs-north)")
    return problems
