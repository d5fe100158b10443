"""Working days: the one definition behind every Awaab's Law and Complaint Handling Code clock.

Two calendars:
- ``awaab``: Monday to Friday, excluding England and Wales bank holidays;
- ``chc`` (complaints): the same, also excluding the landlord's own closure dates.

Day 0 is the calendar date of the event (whatever day it is); the deadline for "within N working
days" is the Nth working day after day 0. One implementation, numpy's business-day arithmetic
(`busday_offset`), serves a single date, the demo generator's arrays and the deadline table that the
SQL clocks look up (one row per date and per N that a clock in `clocks.py` counts), so Python and
SQL cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from functools import lru_cache

import holidays
import numpy as np
import polars as pl

from housing_assurance.clocks import working_day_lengths

# The calendar's range: a clock that starts outside it has no deadline. From 1900, so that a case or
# complaint recorded long ago and still open is overdue as it should be (the table is built once a process
# and costs no more to open at this size).
CALENDAR_START = date(1900, 1, 1)
CALENDAR_END = date(2060, 12, 31)
WEEKMASK = "1111100"  # Monday to Friday


@lru_cache(maxsize=1)
def bank_holidays() -> frozenset[date]:
    """England and Wales bank holidays, from the maintained `holidays` package."""
    years = range(CALENDAR_START.year, CALENDAR_END.year + 1)
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=years).keys())


@lru_cache(maxsize=8)
def _closed_days(closures: tuple[date, ...] = ()) -> np.ndarray:
    return np.array(sorted(bank_holidays() | set(closures)), dtype="datetime64[D]")


def add_working_days_array(day0: np.ndarray, n: np.ndarray | int, closures: tuple[date, ...] = ()) -> np.ndarray:
    """The Nth working day after each day 0 (datetime64[D] arrays; N = 0 gives day 0 itself).

    Rolling a day 0 that is not a working day back to the working day before it does not change
    which working days come after it, so `roll="backward"` then N steps is exactly "the Nth after".
    """
    day0 = np.asarray(day0, dtype="datetime64[D]")
    n = np.asarray(n, dtype=np.int64)
    moved = np.busday_offset(day0, n, roll="backward", weekmask=WEEKMASK, holidays=_closed_days(closures))
    return np.where(n > 0, moved, day0)


def add_working_days(day0: date | datetime, n: int, closures: Iterable[date] = ()) -> date:
    """The Nth working day after day 0 (day 0 = the calendar date of the event)."""
    day = day0.date() if isinstance(day0, datetime) else day0
    found = add_working_days_array(np.array([day], dtype="datetime64[D]"), n, tuple(sorted(set(closures))))
    return found[0].astype(date)


def is_working_day_array(days: np.ndarray, closures: tuple[date, ...] = ()) -> np.ndarray:
    """Which of these days (datetime64[D]) are working days."""
    return np.is_busday(np.asarray(days, dtype="datetime64[D]"), weekmask=WEEKMASK, holidays=_closed_days(closures))


def is_working_day(day: date, closures: Iterable[date] = ()) -> bool:
    return bool(is_working_day_array(np.array([day], dtype="datetime64[D]"), tuple(sorted(set(closures))))[0])


@lru_cache(maxsize=8)
def deadline_table(closures: tuple[date, ...] = ()) -> pl.DataFrame:
    """Every working-day clock's deadline, looked up by (day 0, N) from SQL.

    One row per date in the calendar range and per N that a clock counts (clocks.py), with the Nth
    working day after it on both calendars. Built as a polars frame: pyarrow imports pandas (0.2 s) to
    turn a numpy array into Arrow, which a command on an extract otherwise never needs.
    """
    days = np.arange(np.datetime64(CALENDAR_START), np.datetime64(CALENDAR_END) + 1, dtype="datetime64[D]")
    lengths = working_day_lengths()
    from_day = np.tile(days, len(lengths))
    n = np.repeat(np.array(lengths, dtype=np.int64), len(days))
    return pl.DataFrame({
        "from_day": from_day,
        "working_days": n.astype(np.int32),
        "awaab_due_on": add_working_days_array(from_day, n),
        "chc_due_on": add_working_days_array(from_day, n, closures),
    })
