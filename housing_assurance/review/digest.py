"""The weekly manager digest: for each manager in the access file, their teams' clocks already overdue
and those due in the next 5 working days, as at the end of the week.

Overdue: the damp and mould cases in breach of an Awaab's Law clock (the rows of dm.overdue_open_cases,
one per case, its breached clocks named, at its first missed deadline) and the complaints past their
current stage's response deadline (the rows of cx.open_overdue). Due soon: the "Due soon" list
(due.py). Exactly the rows the app and `cases`/`due` show for the manager's teams; mail.py words it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from email.message import EmailMessage

from housing_assurance import clocks, due
from housing_assurance.access import User, managed_teams
from housing_assurance.breakdowns import names
from housing_assurance.db import Extract
from housing_assurance.kpis import cases
from housing_assurance.review.mail import DigestRow, EmailSettings, digest_message
from housing_assurance.scope import Scope
from housing_assurance.weeks import week_end


@dataclass(frozen=True)
class ManagerDigest:
    manager: str
    teams: tuple[str, ...]
    overdue: int
    due_soon: int
    message: EmailMessage | None  # None: no team in the extract names this manager, so nothing to send


def digest_rows(extract: Extract, as_of: date, teams: tuple[str, ...]) -> list[DigestRow]:
    """The teams' overdue clocks and their "Due soon" clocks at the end of the week ending as_of."""
    scope = Scope(teams=teams)
    team_names = names(extract, "team")

    def team(team_id: str | None) -> str:
        return team_names.get(team_id, team_id) if team_id else "no team"

    rows = [DigestRow(r["id"], clocks.short_names(r["clocks_breached"]) or "", r["first_breached_due_by"],
                      team(r["team_id"]), bool(r["is_vulnerable_household"]))
            for r in cases(extract, as_of, "dm.overdue_open_cases", scope).iter_rows(named=True)]
    rows += [DigestRow(r["id"], clocks.clock(f"stage{r['current_stage']}_respond").short_name,
                       datetime.combine(r["response_due_on"], time.max),  # the last instant that meets it
                       team(r["team_id"]), bool(r["is_vulnerable_household"]))
             for r in cases(extract, as_of, "cx.open_overdue", scope).iter_rows(named=True)]
    rows += [DigestRow(r["id"], clocks.clock(r["clock"]).short_name, r["due_by"], team(r["team_id"]),
                       bool(r["is_vulnerable_household"]))
             for r in due.due_soon(extract, as_of, scope).iter_rows(named=True)]
    return rows


def manager_digests(extract: Extract, as_of: date, users: dict[str, User],
                    settings: EmailSettings) -> list[ManagerDigest]:
    """One digest per manager in the access file, in e-mail order: overdue at the end of the week (E), due
    from E to the end of the "Due soon" window (the fifth working day after as_of)."""
    end = week_end(as_of)
    out = []
    for email, user in sorted(users.items()):
        if user.role.name != "manager":
            continue
        teams = managed_teams(extract, email)
        if not teams:
            out.append(ManagerDigest(email, (), 0, 0, None))
            continue
        rows = digest_rows(extract, as_of, teams)
        overdue = sum(r.deadline < end for r in rows)
        message = digest_message(settings, email, rows, end, last_day=due.window_last_day(as_of))
        out.append(ManagerDigest(email, teams, overdue, len(rows) - overdue, message))
    return out
