"""Who may see what: users and roles from one TOML file, and each user's scope.

Roles (shared/spec/interfaces.md "Users and scope"):
- executive: the whole landlord, vulnerability details included;
- manager: the rows of the teams whose manager_email is theirs (and those teams' regions' homes for
  denominators), vulnerability details of their own residents included, since they make the adjustments;
- analyst: the whole landlord, vulnerability details hidden ("vulnerable household" only);
- administrator: the whole landlord's figures with vulnerability details hidden, plus the audit trail.
Anyone not listed sees nothing.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from housing_assurance.db import Extract
from housing_assurance.scope import WHOLE_LANDLORD, Scope, ScopeKind
from housing_assurance.settings import settings_dir


@dataclass(frozen=True)
class Role:
    name: str
    whole_landlord: bool
    sees_vulnerability_details: bool
    reads_audit: bool


ROLES = {
    "executive": Role("executive", True, True, False),
    "manager": Role("manager", False, True, False),
    "analyst": Role("analyst", True, False, False),
    "administrator": Role("administrator", True, False, True),
}

# Columns that reveal the nature of a vulnerability (special-category data).
VULNERABILITY_DETAIL_COLUMNS = ("vulnerability_type", "reasonable_adjustment")


class AccessError(Exception):
    """The access file is wrong, or a user is not allowed: shown as one clear line."""


@dataclass(frozen=True)
class User:
    email: str
    role: Role

    @property
    def label(self) -> str:
        return f"{self.email} ({self.role.name})"


def access_file() -> Path:
    """HOUSING_ASSURANCE_ACCESS, else settings/access.toml: the operator's choice, never the extract's.

    An extract comes from outside (a weekly export); if it could name its own users, whoever writes
    the extract would decide who reads it.
    """
    if "HOUSING_ASSURANCE_ACCESS" in os.environ:
        return Path(os.environ["HOUSING_ASSURANCE_ACCESS"])
    return settings_dir() / "access.toml"


USER_KEYS = ("email", "role")


def _shown(path: Path) -> str:
    """The path as the operator would type it: relative to the working folder when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _read_toml(path: Path) -> dict:
    name = _shown(path)
    if path.is_dir():
        raise AccessError(f"{name} is a folder, not an access file: point HOUSING_ASSURANCE_ACCESS at the "
                          "TOML file itself")
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise AccessError(f"no access file at {name}: nobody may see data until it lists them") from None
    except OSError as exc:
        raise AccessError(f"{name} cannot be read ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise AccessError(f"{name} is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise AccessError(f"{name} is not valid TOML ({exc})") from None


def load_users(path: Path | None = None) -> dict[str, User]:
    """Users by lower-case e-mail. Any doubt about the file is an error, never a silent guess.

    A duplicated address would otherwise let the later entry's role win unnoticed, and a misspelt
    key (`rol`, `team`) would be ignored while its author believes it applies.
    """
    path = path or access_file()
    raw = _read_toml(path)
    name = _shown(path)
    unknown = sorted(set(raw) - {"user"})
    if unknown:
        raise AccessError(f'{name}: unknown section "{unknown[0]}" (users are listed as [[user]] entries)')
    entries = raw.get("user", [])
    if not isinstance(entries, list):
        raise AccessError(f"{name}: users must be [[user]] entries")
    users: dict[str, User] = {}
    first_entry: dict[str, int] = {}
    for i, entry in enumerate(entries, start=1):
        where = f"{name}: user entry {i}"
        if not isinstance(entry, dict):
            raise AccessError(f"{where}: not a [[user]] table")
        email = entry.get("email")
        if not isinstance(email, str) or not email.strip():
            raise AccessError(f"{where}: no email")
        email = email.strip().lower()
        where = f"{where} ({email})"
        if "@" not in email:
            raise AccessError(f'{where}: "{email}" is not an e-mail address')
        extra = sorted(set(entry) - set(USER_KEYS))
        if extra:
            raise AccessError(f'{where}: unknown key "{extra[0]}" (an entry has only {" and ".join(USER_KEYS)})')
        role = entry.get("role")
        if role is None:
            raise AccessError(f"{where}: no role (one of {', '.join(ROLES)})")
        if role not in ROLES:
            raise AccessError(f'{where}: role "{role}" is not one of {", ".join(ROLES)}')
        if email in first_entry:
            raise AccessError(f"{where}: the same e-mail as entry {first_entry[email]} (each person once, "
                              "with one role)")
        first_entry[email] = i
        users[email] = User(email, ROLES[role])
    return users


def find_user(email: str, users: dict[str, User] | None = None) -> User:
    users = load_users() if users is None else users
    user = users.get(email.strip().lower())
    if user is None:
        raise AccessError(f"{email} is not listed in {_shown(access_file())}; no data is shown")
    return user


def managed_teams(extract: Extract, email: str) -> tuple[str, ...]:
    teams = extract.query("access_managed_teams", email=email.strip().lower())
    return tuple(teams["team_id"].to_list())


def managers_without_teams(extract: Extract, users: dict[str, User]) -> list[str]:
    """Listed managers whom no team in this extract names as manager: they would see nothing.

    Not an error in the access file (teams change with each weekly extract), but worth a warning.
    """
    named = set(extract.query("access_team_managers")["email"].to_list())
    return sorted(e for e, u in users.items() if u.role.name == "manager" and e not in named)


def no_team_words(user: User) -> str:
    """What a manager with no team in the extract is told (the app and the command line say the same)."""
    return (f"No team in this extract names {user.email} as its manager, so there is nothing to show. "
            "If that is wrong, ask whoever produces the extract to check the teams' manager_email.")


def user_scope(extract: Extract, user: User) -> Scope:
    """The widest scope the user may see."""
    if user.role.whole_landlord:
        return WHOLE_LANDLORD
    return Scope(teams=managed_teams(extract, user.email))


def redact(frame: pl.DataFrame, user: User | None, details_here: bool = True) -> pl.DataFrame:
    """Leave out the nature of a vulnerability (its columns) for roles not allowed to see it, and
    wherever it does not belong (`details_here`: the app shows it on the Vulnerability page only)."""
    if user is not None and user.role.sees_vulnerability_details and details_here:
        return frame
    return frame.drop([c for c in VULNERABILITY_DETAIL_COLUMNS if c in frame.columns])


def households_served(extract: Extract, teams: tuple[str, ...]) -> set[str]:
    """The households the teams serve (queries/households_served.sql)."""
    return set(extract.query("households_served", scope_teams=list(teams))["household_id"].to_list())


def visible_rows(extract: Extract, query_scope: ScopeKind, rows: pl.DataFrame, user: User | None,
                 allowed: Scope, details_here: bool = True) -> tuple[pl.DataFrame, int]:
    """The rows behind a figure as this user may see them, and how many were left out.

    Household-level figures count every household of the region (kpis.md), but a user scoped to teams
    sees record-level rows of the households their teams serve only: a vulnerability, or a household's
    being vulnerable, is special-category data about people their teams do not deal with.
    """
    rows = redact(rows, user, details_here)
    if user is None or user.role.whole_landlord or query_scope is not ScopeKind.HOUSEHOLDS or allowed.teams is None:
        return rows, 0
    household = "household_id" if "household_id" in rows.columns else "id"
    shown = rows.filter(pl.col(household).is_in(list(households_served(extract, allowed.teams))))
    return shown, rows.height - shown.height
