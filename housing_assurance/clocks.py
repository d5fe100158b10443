"""Every legal clock, once: its code, its names for people, its length and the calendar it counts on.

The Awaab's Law clocks (kpis.md "Damp and mould") and the Complaint Handling Code clocks (kpis.md
"Complaints") are read from here by everything that names or times a clock: the SQL deadlines (the
`clock_lengths` table is built from CLOCKS when an extract is opened, and the SQL looks a clock's
length up by its code, so a length is never written twice), the working-day deadline table, the
app's tables and the Case page, the PDF pack and the "Due soon" list.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Unit = Literal["hours", "working_days", "calendar_days"]
Calendar = Literal["awaab", "chc"]  # Awaab's Law: weekends and bank holidays; complaints: also closures


@dataclass(frozen=True)
class Clock:
    code: str
    title: str  # what a reader sees in a heading or a breakdown
    short_name: str  # a few words, for table cells, the pack and marks on a timeline
    length: int
    unit: Unit
    calendar: Calendar | None = None  # for working-day clocks
    kpi_id: str | None = None  # the on-time KPI that judges the clock, where there is one


AWAAB_CLOCKS: tuple[Clock, ...] = (
    Clock("emergency_made_safe_24h", "Emergency: investigated and made safe in 24 hours", "made safe in 24 hours",
          24, "hours", kpi_id="dm.emergency_made_safe_24h_pct"),
    Clock("investigated_10wd", "Investigated within 10 working days", "investigated in 10 working days",
          10, "working_days", "awaab", "dm.investigated_10wd_pct"),
    Clock("summary_3wd", "Written summary within 3 working days", "summary in 3 working days",
          3, "working_days", "awaab", "dm.summary_3wd_pct"),
    Clock("safety_work_5wd", "Safety work within 5 working days", "safety work in 5 working days",
          5, "working_days", "awaab", "dm.safety_work_5wd_pct"),
    Clock("further_work_12wk", "Further work started within 12 weeks", "further work in 12 weeks",
          84, "calendar_days", kpi_id="dm.further_work_12wk_pct"),
)

# Complaint Handling Code 2024: acknowledge in 5 working days; respond in 10 (stage 1) or 20 (stage 2)
# working days of acknowledging; an agreed extension moves the response deadline by at most 10 or 20
# more working days.
COMPLAINT_CLOCKS: tuple[Clock, ...] = (
    Clock("stage1_acknowledge", "Stage 1: acknowledge within 5 working days", "stage 1 acknowledgement",
          5, "working_days", "chc", "cx.acknowledged_on_time_pct"),
    Clock("stage1_respond", "Stage 1: respond within 10 working days of acknowledging", "stage 1 response",
          10, "working_days", "chc", "cx.stage1_on_time_pct"),
    Clock("stage1_extension_cap", "Stage 1: an extension adds at most 10 working days", "stage 1 extension cap",
          10, "working_days", "chc"),
    Clock("stage2_acknowledge", "Stage 2: acknowledge within 5 working days", "stage 2 acknowledgement",
          5, "working_days", "chc", "cx.acknowledged_on_time_pct"),
    Clock("stage2_respond", "Stage 2: respond within 20 working days of acknowledging", "stage 2 response",
          20, "working_days", "chc", "cx.stage2_on_time_pct"),
    Clock("stage2_extension_cap", "Stage 2: an extension adds at most 20 working days", "stage 2 extension cap",
          20, "working_days", "chc"),
)

# The "Due soon" list (kpis.md) looks ahead to the end of the fifth working day after D. It is not a
# clock of the Awaab's Law or the Complaint Handling Code, so it counts plain working days (weekends and
# bank holidays; the landlord's closure dates extend the complaint clocks only).
DUE_SOON_WINDOW = Clock("due_soon_window", "Due in the next 5 working days", "due soon", 5, "working_days", "awaab")

CLOCKS: dict[str, Clock] = {c.code: c for c in AWAAB_CLOCKS + COMPLAINT_CLOCKS + (DUE_SOON_WINDOW,)}


def clock(code: str) -> Clock:
    return CLOCKS[code]


def working_day_lengths() -> tuple[int, ...]:
    """Every N that some working-day clock counts: the deadline table holds a deadline for each."""
    return tuple(sorted({c.length for c in CLOCKS.values() if c.unit == "working_days"}))


def title(code: str | None) -> str:
    """A clock's title, or the code itself when it is not a clock of ours (never an error on odd data)."""
    return CLOCKS[code].title if code in CLOCKS else str(code)


def short_names(codes: str | None, separator: str = "; ") -> str | None:
    """'investigated_10wd, summary_3wd' (as the SQL lists breaches) in a few words each."""
    if codes is None:
        return None
    parts = [c.strip() for c in codes.split(",") if c.strip()]
    return separator.join(CLOCKS[c].short_name if c in CLOCKS else c for c in parts)


def rows() -> list[dict]:
    """The clocks as rows of the SQL `clock_lengths` table."""
    return [{"clock": c.code, "unit": c.unit, "length": c.length, "calendar": c.calendar} for c in CLOCKS.values()]
