"""Working days: the one definition behind every Awaab's Law and Complaint Handling Code clock.

Two calendars share one table:
- ``awaab``: Monday to Friday, excluding England and Wales bank holidays;
- ``chc`` (complaints): the same, also excluding the landlord's own closure dates.

Day 0 is the calendar date of the event (whatever day it is); the deadline for
"within N working days" is the Nth working day after day 0. The SQL clocks use
the calendar table built here (running count of working days up to and
including each date), so Python and SQL cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from functools import lru_cache

import holidays
import numpy as np
import pyarrow as pa

CALENDAR_START = date(2000, 1, 1)
CALENDAR_END = date(2060, 12, 31)
# The clock lengths in working days that kpis.md uses (Awaab's Law 3, 5, 10; complaints 5, 10, 20;
# extension caps 10, 20). The SQL lookup table holds a deadline for each.
CLOCK_WORKING_DAYS = (3, 5, 10, 20)


@lru_cache(maxsize=1)
def bank_holidays() -> frozenset[date]:
    """England and Wales bank holidays, from the maintained `holidays` package."""
    years = range(CALENDAR_START.year, CALENDAR_END.year + 1)
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=years).keys())


def is_working_day(day: date, closures: Iterable[date] = ()) -> bool:
    return day.weekday() < 5 and day not in bank_holidays() and day not in set(closures)


def add_working_days(day0: date | datetime, n: int, closures: Iterable[date] = ()) -> date:
    """The Nth working day after day 0 (day 0 = the calendar date of the event)."""
    day = day0.date() if isinstance(day0, datetime) else day0
    closed = set(closures)
    counted = 0
    while counted < n:
        day += timedelta(days=1)
        if is_working_day(day, closed):
            counted += 1
    return day


def hour_deadline(start: datetime, hours: int) -> datetime:
    """An hour clock runs through nights, weekends and holidays (naive local time)."""
    return start + timedelta(hours=hours)


@lru_cache(maxsize=8)
def deadline_table(closures: tuple[date, ...] = ()) -> pa.Table:
    """Every clock's working-day deadline, looked up by (day 0, N) from SQL.

    One row per date in the calendar range and per N in CLOCK_WORKING_DAYS, with the
    Nth working day after it on both calendars. Built from running counts of working
    days: the deadline is the first date whose count equals day 0's count + N.
    """
    closed = set(closures)
    days = np.arange(np.datetime64(CALENDAR_START), np.datetime64(CALENDAR_END) + 1, dtype="datetime64[D]")
    n_days = len(days)
    awaab = np.array([is_working_day(d) for d in days.astype(date)])
    chc = awaab & ~np.isin(days, np.array(sorted(closed), dtype="datetime64[D]"))
    columns: dict[str, list] = {"from_day": [], "working_days": [], "awaab_due_on": [], "chc_due_on": []}
    for is_wd, key in ((awaab, "awaab_due_on"), (chc, "chc_due_on")):
        count = np.cumsum(is_wd)
        for n in CLOCK_WORKING_DAYS:
            pos = np.searchsorted(count, count + n, side="left")
            due = np.where(pos < n_days, days[np.minimum(pos, n_days - 1)], np.datetime64("NaT"))
            columns[key].append(due)
    for n in CLOCK_WORKING_DAYS:
        columns["from_day"].append(days)
        columns["working_days"].append(np.full(n_days, n, dtype=np.int32))
    columns = {k: np.concatenate(v) for k, v in columns.items()}
    return pa.table({
        "from_day": pa.array(columns["from_day"], pa.date32()),
        "working_days": pa.array(columns["working_days"], pa.int32()),
        "awaab_due_on": pa.array(columns["awaab_due_on"], pa.date32(), from_pandas=True),
        "chc_due_on": pa.array(columns["chc_due_on"], pa.date32(), from_pandas=True),
    })
