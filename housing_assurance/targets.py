"""Targets and red/amber/green, once: each KPI's direction, target and amber band, and how a
status is shown (a word and a symbol with every colour, so colour is never the only signal).

The landlord edits settings/targets.toml; it is checked when read (settings.SettingsError names the
file, the KPI, the key and the value), so a typo can never silently flip a status.
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Real

from housing_assurance.settings import SettingsError, read_settings, settings_dir

DIRECTIONS = {"higher": True, "lower": False, "none": None}
KEYS = {"direction", "target", "amber_margin"}


@dataclass(frozen=True)
class Status:
    """How a red/amber/green status reads and looks."""

    word: str
    symbol: str
    colour: str  # Okabe-Ito, for charts and the pack
    badge: str  # Streamlit's badge colour name


STATUS: dict[str | None, Status] = {
    "green": Status("On target", "✓", "#009E73", "green"),
    "amber": Status("Near target", "!", "#E69F00", "orange"),
    "red": Status("Off target", "✕", "#D55E00", "red"),
    None: Status("No target", "·", "#999999", "gray"),
}
NO_DATA_STATUS = Status("No data", "·", "#999999", "gray")


def status(rag: str | None, value: float | None) -> Status:
    """The status of a figure: its RAG, or "no data" when there was nothing to measure."""
    return NO_DATA_STATUS if value is None else STATUS[rag]


def status_words(rag: str | None, value: float | None) -> str:
    s = status(rag, value)
    return f"{s.symbol} {s.word}"


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


def _number(path: str, kpi_id: str, key: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise SettingsError(f"{path}: [kpi.\"{kpi_id}\"] {key} = {value!r} is not a number")
    return float(value)


def parse_targets(raw: dict, path: str, kpi_ids: set[str]) -> dict[str, Target]:
    """Targets from a parsed targets.toml; one clear line for the first mistake."""
    table = raw.get("kpi", {})
    unknown_tables = set(raw) - {"kpi"}
    if unknown_tables:
        raise SettingsError(f"{path}: unknown table [{sorted(unknown_tables)[0]}] (only [kpi.\"ID\"] tables)")
    if not isinstance(table, dict):
        raise SettingsError(f"{path}: kpi must be a table of [kpi.\"ID\"] entries")
    out = {}
    for kpi_id, t in table.items():
        if kpi_id not in kpi_ids:
            raise SettingsError(f"{path}: [kpi.\"{kpi_id}\"] is not a KPI id (see `kpis --json` for the ids)")
        if not isinstance(t, dict):
            raise SettingsError(f"{path}: kpi.\"{kpi_id}\" must be a table")
        extra = set(t) - KEYS
        if extra:
            raise SettingsError(f"{path}: [kpi.\"{kpi_id}\"] unknown key {sorted(extra)[0]!r} "
                                f"(keys: {', '.join(sorted(KEYS))})")
        direction = t.get("direction", "none")
        if direction not in DIRECTIONS:
            raise SettingsError(f"{path}: [kpi.\"{kpi_id}\"] direction = {direction!r} is not one of "
                                "\"higher\", \"lower\", \"none\"")
        target = _number(path, kpi_id, "target", t["target"]) if "target" in t else None
        margin = _number(path, kpi_id, "amber_margin", t.get("amber_margin", 0.0))
        if margin < 0:
            raise SettingsError(f"{path}: [kpi.\"{kpi_id}\"] amber_margin = {margin:g} must not be negative")
        if DIRECTIONS[direction] is not None and target is None:
            raise SettingsError(f"{path}: [kpi.\"{kpi_id}\"] direction = {direction!r} needs a target")
        out[kpi_id] = Target(kpi_id, DIRECTIONS[direction], target, margin)
    return out


def legal_defaults() -> dict[str, Target]:
    """The legal clocks' targets when targets.toml leaves them out (kpis.md "Targets"): every Awaab's
    Law clock on time (100%) and no case in breach of one, with no amber band, so any breach is red."""
    from housing_assurance.clocks import AWAAB_CLOCKS

    on_time = {c.kpi_id: Target(c.kpi_id, True, 100.0, 0.0) for c in AWAAB_CLOCKS if c.kpi_id}
    return {**on_time, "dm.overdue_open_cases": Target("dm.overdue_open_cases", False, 0.0, 0.0)}


def targets() -> dict[str, Target]:
    """Every KPI's target from settings/targets.toml (checked; SettingsError on a mistake), the legal
    clocks' defaults where the file leaves them out."""
    from housing_assurance.kpis import KPIS

    path = settings_dir() / "targets.toml"
    return {**legal_defaults(), **parse_targets(read_settings(path), str(path), set(KPIS))}
