"""The landlord's settings: closure dates, KPI targets. One file each, edited by the landlord."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def settings_dir() -> Path:
    return Path(os.environ.get("HOUSING_ASSURANCE_SETTINGS", PROJECT_ROOT / "settings"))


@lru_cache(maxsize=4)
def _read(path: Path) -> dict:
    if not path.exists():
        return {}
    with path.open("rb") as f:
        return tomllib.load(f)


def landlord_settings() -> dict:
    return _read(settings_dir() / "landlord.toml")


def closure_dates() -> tuple[date, ...]:
    """The landlord's extra closure dates: they extend complaint clocks only."""
    raw = landlord_settings().get("complaints", {}).get("closure_dates", [])
    return tuple(sorted(d if isinstance(d, date) else date.fromisoformat(str(d)) for d in raw))


@dataclass(frozen=True)
class Target:
    kpi_id: str
    higher_is_better: bool | None  # None: a volume with no better direction
    target: float | None
    amber_margin: float  # how far on the wrong side of target is still amber

    def rag(self, value: float | None) -> str | None:
        """'green', 'amber', 'red', or None when there is no value or no target."""
        if value is None or self.target is None or self.higher_is_better is None:
            return None
        gap = (value - self.target) if self.higher_is_better else (self.target - value)
        if gap >= 0:
            return "green"
        return "amber" if -gap <= self.amber_margin else "red"


def targets() -> dict[str, Target]:
    raw = _read(settings_dir() / "targets.toml")
    out = {}
    for kpi_id, t in raw.get("kpi", {}).items():
        direction = t.get("direction")
        out[kpi_id] = Target(
            kpi_id,
            None if direction in (None, "none") else direction == "higher",
            t.get("target"),
            float(t.get("amber_margin", 0.0)),
        )
    return out
