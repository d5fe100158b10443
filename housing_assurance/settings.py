"""The landlord's settings files (settings/ or HOUSING_ASSURANCE_SETTINGS): read once, checked on reading.

- landlord.toml: closure dates that extend the complaint clocks (here);
- targets.toml: each KPI's target and red/amber/green rule (targets.py);
- access.toml: users and roles (access.py).
A wrong key, type or value is one clear line naming the file, the key and the value (SettingsError),
shown by the app at start and by the command line as `error: …`, never a traceback.

`check_all` reads every file once, before any figure is read: every command that reads figures
(kpis, cases, risk, report, prepare) calls it first, so a typo stops the command instead of silently
changing a status or a clock. The access file is checked only when it is needed (a user is named) or
exists: a command line with no users configured still works for the operator.
"""

from __future__ import annotations

import os
import tomllib
from datetime import date
from functools import lru_cache
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class SettingsError(ValueError):
    """A settings file is wrong: the message names the file, the key and the value in one line."""


def settings_dir() -> Path:
    return Path(os.environ.get("HOUSING_ASSURANCE_SETTINGS", PROJECT_ROOT / "settings"))


@lru_cache(maxsize=16)
def read_settings(path: Path, required: bool = False) -> dict:
    """A TOML settings file as a dict ({} when it does not exist and is not required)."""
    if path.is_dir():
        raise SettingsError(f"{path} is a folder, not a settings file")
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        if required:
            raise SettingsError(f"no settings file at {path}") from None
        return {}
    except OSError as exc:
        raise SettingsError(f"{path} cannot be read ({exc.strerror or exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path} is not valid TOML ({exc})") from None


LANDLORD_KEYS = {"complaints": {"closure_dates"}}


def closure_dates() -> tuple[date, ...]:
    """The landlord's extra closure dates (landlord.toml [complaints] closure_dates): complaint clocks only."""
    path = settings_dir() / "landlord.toml"
    raw = read_settings(path)
    for table, keys in raw.items():
        if table not in LANDLORD_KEYS:
            raise SettingsError(f"{path}: unknown table [{table}] (tables: {', '.join(LANDLORD_KEYS)})")
        if not isinstance(keys, dict):
            raise SettingsError(f"{path}: {table} must be a table")
        extra = set(keys) - LANDLORD_KEYS[table]
        if extra:
            raise SettingsError(f"{path}: [{table}] unknown key {sorted(extra)[0]!r}")
    listed = raw.get("complaints", {}).get("closure_dates", [])
    if not isinstance(listed, list):
        raise SettingsError(f"{path}: [complaints] closure_dates = {listed!r} must be a list of dates")
    out = []
    for value in listed:
        if isinstance(value, date) and not hasattr(value, "hour"):
            out.append(value)
            continue
        try:
            out.append(date.fromisoformat(str(value)))
        except ValueError:
            raise SettingsError(f"{path}: [complaints] closure_dates holds {value!r}, which is not a date "
                                "(write 2026-12-29)") from None
    return tuple(sorted(set(out)))


def check_all(access_required: bool = False) -> None:
    """Read and check every settings file once (at the app's start and before a command runs); the
    access file when `access_required` or when it exists. SettingsError for any of them."""
    from housing_assurance.access import AccessError, access_file, load_users
    from housing_assurance.targets import targets

    closure_dates()
    targets()
    if access_required or access_file().is_file():
        try:
            load_users()
        except AccessError as exc:
            raise SettingsError(str(exc)) from None
