"""Time for the demo generator: integer seconds and days, vectorised working days.

Everything inside the generator is numpy int64: timestamps are seconds since
1970-01-01 (naive local time) and dates are days since then. ``NEVER`` marks a
missing value or an event that has not happened; because it is a huge number,
"happened by the extraction time" is simply ``t <= horizon``.

Working-day deadlines come from ``housing_assurance.workdays``, the one definition
of working days, applied to millions of rows at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from housing_assurance.workdays import add_working_days_array, bank_holidays, is_working_day_array

DAY = 86_400
HOUR = 3_600
MINUTE = 60
NEVER = np.int64(np.iinfo(np.int64).max // 4)  # "no value": later than any real time
EPOCH = date(1970, 1, 1)


def day_number(d: date) -> int:
    return (d - EPOCH).days


def to_date(day: int) -> date:
    return EPOCH + timedelta(days=int(day))


def never(n: int) -> np.ndarray:
    return np.full(n, NEVER, dtype=np.int64)


def is_set(t: np.ndarray) -> np.ndarray:
    """True where a time/date holds a value (not NEVER)."""
    return t < NEVER // 2


def censor(t: np.ndarray, limit: int | np.integer) -> np.ndarray:
    """Times after ``limit`` have not happened yet: replace them with NEVER."""
    return np.where(t <= limit, t, NEVER)


def weekday(days: np.ndarray) -> np.ndarray:
    """Monday = 0 (1970-01-01 was a Thursday)."""
    return (days + 3) % 7


def day_of_year(days: np.ndarray) -> np.ndarray:
    d = days.astype("datetime64[D]")
    return (d - d.astype("datetime64[Y]").astype("datetime64[D]")).astype(np.int64)


def winter_wave(days: np.ndarray) -> np.ndarray:
    """+1 in mid-January, -1 in mid-July: the shape of damp, heating and leak demand."""
    return np.cos(2 * np.pi * (day_of_year(days) - 15) / 365.25)


@dataclass
class Calendar:
    """The generator's window and its working days.

    Events are generated on the days ``start_day`` … ``end_day - 1``; the
    extract is taken at ``horizon`` (the end date, 06:00), so nothing later is
    known and recent cases stay open.
    """

    start: date
    end: date
    start_day: int = field(init=False)
    end_day: int = field(init=False)
    horizon: int = field(init=False)
    working_days: np.ndarray = field(init=False, repr=False)
    holidays: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.start_day = day_number(self.start)
        self.end_day = day_number(self.end)
        self.horizon = self.end_day * DAY + 6 * HOUR
        lo = self.start_day - 3 * 366
        hi = self.end_day + 4 * 366
        days = np.arange(lo, hi, dtype=np.int64)
        hol = np.array(sorted(day_number(d) for d in bank_holidays()), dtype=np.int64)
        self.holidays = hol[(hol >= lo) & (hol < hi)]
        self.working_days = days[is_working_day_array(days.astype("datetime64[D]"))]

    @property
    def n_days(self) -> int:
        return self.end_day - self.start_day

    @property
    def window_days(self) -> np.ndarray:
        return np.arange(self.start_day, self.end_day, dtype=np.int64)

    def add_working_days(self, day0: np.ndarray, n: np.ndarray | int) -> np.ndarray:
        """The Nth working day after day 0, for arrays of day numbers (N = 0 gives day 0 itself)."""
        day0 = np.asarray(day0, dtype=np.int64)
        found = add_working_days_array(day0.astype("datetime64[D]"), np.broadcast_to(n, day0.shape))
        return found.astype(np.int64)

    def next_working_day(self, days: np.ndarray) -> np.ndarray:
        """The day itself when it is a working day, else the next one."""
        pos = np.searchsorted(self.working_days, days, side="left")
        return self.working_days[np.clip(pos, 0, len(self.working_days) - 1)]

    def busy_weights(self) -> np.ndarray:
        """Relative demand per window day: weekends and bank holidays are quieter."""
        days = self.window_days
        w = np.ones(len(days))
        wd = weekday(days)
        w[wd == 5] = 0.45
        w[wd == 6] = 0.35
        w[np.isin(days, self.holidays)] = 0.4
        return w


class DaySampler:
    """Draws event days inside per-row intervals with a seasonal/weekly density.

    ``weights`` gives the relative intensity of each window day; a row with the
    interval [lo, hi) (window day numbers) gets days distributed accordingly.
    """

    def __init__(self, cal: Calendar, weights: np.ndarray) -> None:
        self.cal = cal
        self.cum = np.concatenate([[0.0], np.cumsum(weights)])
        self.per_year = self.cum[-1] / cal.n_days * 365.25

    def exposure(self, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Expected events in [lo, hi) at a rate of one a year (seasonality included)."""
        a = np.clip(lo - self.cal.start_day, 0, self.cal.n_days)
        b = np.clip(hi - self.cal.start_day, 0, self.cal.n_days)
        return np.maximum(self.cum[b] - self.cum[a], 0.0) / self.per_year

    def sample(self, rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        a = np.clip(lo - self.cal.start_day, 0, self.cal.n_days)
        b = np.clip(hi - self.cal.start_day, 0, self.cal.n_days)
        target = self.cum[a] + rng.random(len(a)) * (self.cum[b] - self.cum[a])
        idx = np.searchsorted(self.cum, target, side="right") - 1
        idx = np.clip(idx, a, np.maximum(b - 1, a))
        return self.cal.start_day + idx


# Hour-of-day profiles (24 weights): when residents report things.
OFFICE_HOURS = np.array([0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.5, 1.5, 4.5, 6.5, 6.0, 5.5,
                         5.0, 5.2, 5.0, 4.6, 4.0, 3.0, 2.0, 1.6, 1.3, 1.0, 0.7, 0.4])
ROUND_THE_CLOCK = OFFICE_HOURS + 1.2
WORKING_HOURS = np.array([0, 0, 0, 0, 0, 0, 0, 0.3, 2, 4, 4, 3.5, 2.5, 3.5, 4, 4, 3.5, 2, 0.5, 0, 0, 0, 0, 0],
                         dtype=float)


def time_of_day(rng: np.random.Generator, n: int, profile: np.ndarray) -> np.ndarray:
    """Seconds after midnight drawn from an hour profile (minutes and seconds uniform)."""
    hours = rng.choice(24, size=n, p=profile / profile.sum())
    return hours * HOUR + rng.integers(0, HOUR, size=n)
