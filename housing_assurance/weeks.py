"""The reporting week, once: what a week is, which weeks an extract can report, and the default week.

kpis.md "Reporting week": an as-of date D reports the seven days D−6 … D, and E = D+1 00:00 is the end
of the week. The command line takes any D, as the spec allows; the app, the pack's default and the
weekly review use Monday-to-Sunday weeks, and every default is the latest complete week: the last
Sunday whose week had ended when the extract was taken. A week can be reported when it had ended by
then and starts on or after the extract's first record (an earlier week would undercount).
When extracted_at is missing or impossible (db.read_manifest: in the future, before 2000) no week can
be reported, and the weeks offered run to the last week that ended before the extract's latest record,
so that the extract's data, not a wrong date, bounds them.
No Streamlit here: the app, the pack, the command line and the review all read these rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

TREND_WEEKS = 13
LONG_TREND_WEEKS = 52
FOUR_WEEKS = 4
# A tile compares the week with the same week last year (52 weeks earlier) and the financial year's
# weeks so far: 53 weeks ending D hold both.
COMPARISON_WEEKS = 53


def same_week_last_year(as_of: date) -> date:
    """The week ending 52 weeks (364 days) before D: the same weekday, so a whole week to compare with."""
    return as_of - timedelta(weeks=52)


def week_period(as_of: date) -> tuple[date, date]:
    """The reporting week D−6 … D."""
    return as_of - timedelta(days=6), as_of


def week_end(as_of: date) -> datetime:
    """E = D+1 00:00: "open at E" is the state at the end of day D."""
    return datetime.combine(as_of + timedelta(days=1), time())


def weeks_ending(as_of: date, n: int) -> list[date]:
    """The as-of dates of the n weeks ending on as_of, oldest first (for trends)."""
    return [as_of - timedelta(weeks=i) for i in reversed(range(n))]


def financial_year_start(as_of: date) -> date:
    """1 April of the financial year containing D (kpis.md "Financial year to date")."""
    return date(as_of.year if as_of.month >= 4 else as_of.year - 1, 4, 1)


@dataclass(frozen=True)
class ReportingYear:
    """A TSM reporting year, a financial year: "2024-25" runs from 1 April 2024 to 31 March 2025."""

    start: date

    @classmethod
    def parse(cls, text: str) -> ReportingYear:
        """"2024-25"; anything else (2024-2025, 2024-26, 2024) is a ValueError saying how to write it."""
        first, _, second = text.partition("-")
        if not (len(first) == 4 and first.isdigit() and 0 < int(first) < 9999
                and second == f"{(int(first) + 1) % 100:02d}"):
            raise ValueError(f"{text!r} is not a TSM reporting year in the form YYYY-YY, e.g. 2024-25")
        return cls(date(int(first), 4, 1))

    @classmethod
    def containing(cls, day: date) -> ReportingYear:
        return cls(financial_year_start(day))

    @property
    def end(self) -> date:
        return date(self.start.year + 1, 3, 31)

    @property
    def label(self) -> str:
        return f"{self.start.year}-{(self.start.year + 1) % 100:02d}"

    def before(self) -> ReportingYear:
        return ReportingYear(date(self.start.year - 1, 4, 1))


def sunday_on_or_before(day: date) -> date:
    return day - timedelta(days=(day.weekday() + 1) % 7)


def latest_complete_week(extracted_at: datetime) -> date:
    """The last Sunday whose week had ended (E at or before extracted_at) when the extract was taken."""
    return sunday_on_or_before(extracted_at.date() - timedelta(days=1))


def has_ended(as_of: date, extracted_at: datetime) -> bool:
    return week_end(as_of) <= extracted_at


@dataclass(frozen=True)
class Span:
    """What an extract can report: its first and latest records (None when it holds none) and when it
    was taken (None when not known)."""

    first_record: datetime | None
    extracted_at: datetime | None
    last_record: datetime | None = None

    @property
    def latest_week(self) -> date | None:
        return latest_complete_week(self.extracted_at) if self.extracted_at else None

    @property
    def first_week(self) -> date | None:
        """The first Monday-to-Sunday week that starts on or after the first record."""
        if self.first_record is None:
            return None
        return sunday_on_or_before(self.first_record.date() + timedelta(days=12))

    def unfinished(self, as_of: date) -> str | None:
        """Why the week ending as_of was not complete when the extract was taken (None when it was)."""
        if self.extracted_at is None:
            return "the extract's manifest gives no valid extracted_at, so no week is known to be complete"
        if has_ended(as_of, self.extracted_at):
            return None
        latest = self.extracted_at.date() - timedelta(days=1)
        return (f"the week ending {as_of.isoformat()} had not ended when the extract was taken "
                f"({self.extracted_at.isoformat(sep=' ', timespec='minutes')}); the latest complete week ends on "
                f"{latest.isoformat()}")

    def problem(self, as_of: date) -> str | None:
        """Why the week ending as_of cannot be reported from this extract (None when it can)."""
        unfinished = self.unfinished(as_of)
        if unfinished:
            return unfinished
        if self.first_record is None:
            return "the extract holds no repairs, damp and mould cases or complaints"
        start, _ = week_period(as_of)
        if start < self.first_record.date():
            return (f"the week ending {as_of.isoformat()} starts before the extract's first record "
                    f"({self.first_record.date().isoformat()}); the earliest week that can be reported ends on "
                    f"{(self.first_record.date() + timedelta(days=6)).isoformat()}")
        return None

    def selectable_weeks(self) -> list[date]:
        """The Monday-to-Sunday weeks a user can pick, newest first (at least the latest, even when the
        extract is too short for a complete week: the pages then say what is missing)."""
        latest = self.latest_week
        if latest is None:  # no usable extracted_at: the weeks the records show
            latest = latest_complete_week(self.last_record or self.first_record or datetime.now())
        earliest = min(self.first_week or latest, latest)
        return [latest - timedelta(weeks=i) for i in range((latest - earliest).days // 7 + 1)]


def review_week_problem(span: Span, as_of: date) -> str | None:
    """Why as_of names no week of the weekly review (a Monday-to-Sunday week, by its Sunday, that this
    extract can report), or None: commentary and sign-off are kept by the weeks the app offers."""
    if as_of.weekday() != 6:
        before = sunday_on_or_before(as_of)
        return (f"{as_of.isoformat()} is a {as_of:%A}: the weekly review names a Monday-to-Sunday week by its "
                f"Sunday, such as {before.isoformat()} or {(before + timedelta(weeks=1)).isoformat()}")
    return span.problem(as_of)


def resolve(text: str | None, weeks: list[date]) -> tuple[date, str | None]:
    """The week a URL asks for, among the selectable weeks (newest first), and a note when the request
    could not be met as asked. Another day means the latest week that had ended by that day."""
    if not text:
        return weeks[0], None
    try:
        asked = date.fromisoformat(text)
    except ValueError:
        return weeks[0], "not a date (YYYY-MM-DD); showing the latest week."
    if asked > weeks[0]:
        return weeks[0], "after the latest complete week in this extract; showing it."
    if asked < weeks[-1]:
        return weeks[-1], "before the extract's data starts; showing the first week."
    return sunday_on_or_before(asked), None
