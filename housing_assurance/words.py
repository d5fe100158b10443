"""How figures, changes, targets, scopes and weeks are written for people, once for the app, the PDF
pack and the command line: UK dates (23 Nov 2026), £, thousands separators, one decimal place for
percentages, "—" for nothing to measure, and codes turned into words. A NaN or infinite number is
nothing to measure too: a reader never sees "nan", "£nan" or "inf".
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from housing_assurance.db import LONDON
from housing_assurance.kpis import Kpi
from housing_assurance.scope import Scope
from housing_assurance.targets import Target
from housing_assurance.weeks import week_period

NO_DATA = "—"
MINUS = "−"  # the typographic minus; the app's metric arrows need an ASCII "-" and ask for it


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


def percentile_text(position: float | None) -> str:
    """Where a figure stands among landlords (sector.percentile_position): '61st percentile'."""
    if position is None:
        return NO_DATA
    n = round(position)
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix} percentile"


def humanise(value: object) -> str:
    """An enum value as words: penetrating_damp -> Penetrating damp."""
    if value is None:
        return "Not recorded"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    text = str(value).replace("_", " ")
    return text[:1].upper() + text[1:]


def date_text(value: date | datetime | None) -> str:
    """23 Nov 2026 (dates) or 23 Nov 2026 14:05 (times)."""
    if value is None:
        return NO_DATA
    if isinstance(value, datetime):
        return value.strftime("%-d %b %Y %H:%M")
    return value.strftime("%-d %b %Y")


def local_text(at: datetime) -> str:
    """A stored moment (time-zone aware, e.g. when a commentary was written) as London local time."""
    return date_text(at.astimezone(LONDON))


def missing(value: float | None) -> bool:
    """Nothing to show: no value, or NaN or infinity (which no figure should be, but must never be shown)."""
    return value is None or not math.isfinite(value)


def number(value: float | None, decimals: int = 0) -> str:
    return NO_DATA if missing(value) else f"{value:,.{decimals}f}"


def value_text(k: Kpi, value: float | None) -> str:
    """A KPI's figure as a reader sees it: 87.5%, £1,234.00, 1,204, 12.3 days."""
    if missing(value):
        return NO_DATA
    if k.kind == "pct":
        return f"{value:.1f}%"
    if k.kind == "sum_gbp":
        return f"£{value:,.2f}"
    if k.kind in ("count", "sum"):
        return f"{value:,.0f}"
    return f"{value:,.1f}" + (" days" if k.unit == "days" else "")


def ratio_text(k: Kpi, numerator: int | None, denominator: int | None) -> str:
    """The cases behind a ratio: '7 of 8' (a %) or '42 in 20,000 homes' (per 1,000 homes)."""
    if denominator is None or numerator is None:
        return ""
    if k.kind == "per_1000_homes":
        return f"{numerator:,} in {denominator:,} homes"
    return f"{numerator:,} of {denominator:,}" if denominator else "none due"


@dataclass(frozen=True)
class Change:
    text: str  # "▲ +2.5 pts", "no change", "—"
    direction: str  # better, worse, same, none (a volume with no better direction, or no figure)


def change(k: Kpi, delta: float | None, higher_is_better: bool | None, minus: str = MINUS,
           arrow: bool = True) -> Change:
    """Change since last week, from unrounded figures, as precise as the figures themselves.

    Exactly no change reads "no change"; a change too small to show reads "under 0.1" rather than a
    puzzling "−0.0".
    """
    if missing(delta):
        return Change(NO_DATA, "none")
    if delta == 0:
        return Change("no change", "same")
    size = value_text(k, abs(delta)).removesuffix(" days").removesuffix("%")
    sign = "+" if delta > 0 else minus
    if not any(c in "123456789" for c in size):
        size, sign = "under " + size[:-1] + "1", ""
    text = sign + size + (" pts" if k.kind == "pct" else "")
    if arrow:
        text = ("▲ " if delta > 0 else "▼ ") + text
    if higher_is_better is None:
        return Change(text, "none")
    return Change(text, "better" if (delta > 0) == higher_is_better else "worse")


def target_text(k: Kpi, goal: Target | None) -> str | None:
    """'≥ 95.0%', '≤ 0' — or None for a volume with no target."""
    if goal is None or goal.target is None or goal.higher_is_better is None:
        return None
    return ("≥ " if goal.higher_is_better else "≤ ") + value_text(k, goal.target)


def no_target_text(k: Kpi) -> str:
    """What a figure with no target is for: 'No target: a volume to watch', 'No target: a rate to watch'."""
    if k.kind in ("pct", "per_1000_homes"):
        return "No target: a rate to watch"
    return "No target: a volume to watch" if k.kind in ("count", "sum", "sum_gbp") else "No target: a measure to watch"


def goal_text(k: Kpi, goal: Target | None) -> str:
    """A KPI's target in a line: 'Target ≥ 95.0%', or no_target_text."""
    words = target_text(k, goal)
    return f"Target {words}" if words else no_target_text(k)


def comparison_text(k: Kpi, tile: dict) -> str | None:
    """The week beside other periods (scorecard.py): 'Same week last year 82.0% · Last 4 weeks 85.1% ·
    Year to date 86.0% (34 weeks)'. A period with no figure is left out."""
    parts = []
    if not missing(tile.get("last_year_value")):
        parts.append(f"Same week last year {value_text(k, tile['last_year_value'])}")
    if not missing(tile.get("four_week_value")):
        parts.append(f"Last 4 weeks {value_text(k, tile['four_week_value'])}")
    if not missing(tile.get("fytd_value")):
        parts.append(f"Year to date {value_text(k, tile['fytd_value'])} ({plural(tile['fytd_weeks'], 'week')})")
    return " · ".join(parts) or None


def band_text(k: Kpi, goal: Target | None) -> str | None:
    """How far off target is still amber: 'red on any shortfall', 'amber within 5.0 points, red beyond'."""
    if goal is None or goal.target is None or goal.higher_is_better is None:
        return None
    if goal.amber_margin == 0:
        return "red as soon as it is off target (no amber band)"
    side = "below" if goal.higher_is_better else "above"
    margin = (f"{goal.amber_margin:.1f} points" if k.kind == "pct"
              else value_text(k, goal.amber_margin).removesuffix(" days") + (" days" if k.unit == "days" else ""))
    return f"amber up to {margin} {side} target, red beyond"


def definition(k: Kpi, goal: Target | None) -> list[str]:
    """A KPI in words, from the catalogue: what is counted (a percentage's numerator and denominator),
    the period, the target and its amber band. The tile's hover, the About page and the pack."""
    from housing_assurance.kpis import PERIOD_WORDS

    if k.kind == "pct":
        lines = [f"Of the {k.counts}: the percentage {k.meets_words}."]
    elif k.kind == "per_1000_homes":
        lines = [f"The {k.counts}, for every 1,000 homes in stock on the week's last day (leasehold homes "
                 "not counted)."]
    elif k.kind in ("median", "mean"):
        lines = [f"{k.counts[:1].upper()}{k.counts[1:]}."]
    else:
        lines = [f"{'The total of ' if k.kind in ('sum', 'sum_gbp') else 'The number of '}{k.counts}."]
    lines.append(f"Period: {PERIOD_WORDS[k.period]}.")
    goal_words = target_text(k, goal)
    lines.append(f"Target: {goal_words}; {band_text(k, goal)}." if goal_words else f"{no_target_text(k)}.")
    return lines


def scope_text(scope: Scope, team_names: Mapping[str, str] | None = None, with_ids: bool = False) -> str:
    """'North region · Damp and Mould North', or 'Whole landlord'."""
    names = team_names or {}
    parts = []
    if scope.region:
        parts.append(f"{scope.region} region")
    if scope.teams:
        parts.append(", ".join(f"{names.get(t, t)} ({t})" if with_ids and t in names else names.get(t, t)
                               for t in scope.teams))
    elif scope.teams is not None:
        parts.append("no teams")
    return " · ".join(parts) or "Whole landlord"


def week_text(as_of: date) -> str:
    """'week ending Sunday 22 Nov 2026 (16 Nov to 22 Nov 2026)'."""
    start, end = week_period(as_of)
    return f"week ending {end:%A} {date_text(end)} ({start:%-d %b} to {date_text(end)})"


ROW_NOUNS = {"rp_appointments": "appointments", "rp_job_surveys": "answers", "vu_households": "households",
             "vu_vulnerability_records": "vulnerability records", "validation": "findings",
             "cx_acknowledgements_due": "acknowledgements"}


def rows_noun(k: Kpi, n: int | None = None) -> str:
    """What a KPI's rows are, in words: cases, jobs, complaints, appointments …"""
    noun = ROW_NOUNS.get(k.query)
    if noun is None:
        noun = "jobs" if k.query.startswith("rp_") else "complaints" if k.query.startswith("cx_") else "cases"
    return noun.removesuffix("s") if n == 1 else noun
