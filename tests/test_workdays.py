"""Working days and clocks: the hand-worked examples of kpis.md, every day of three years against a
plain day-by-day count, and the SQL deadlines equal to Python's."""

from datetime import date, datetime, timedelta

import pytest
from extract_factory import write_extract

from housing_assurance import clocks
from housing_assurance.db import open_extract
from housing_assurance.workdays import add_working_days, bank_holidays, is_working_day


def test_kpis_md_example_over_christmas():
    # Day 0 Fri 19 Dec 2025 14:00; 25 and 26 Dec are bank holidays; working days after day 0:
    # 22, 23, 24, 29, 30 Dec -> the 5th is Tue 30 Dec 2025.
    assert add_working_days(datetime(2025, 12, 19, 14), 5) == date(2025, 12, 30)


def test_easter_2026():
    # Day 0 Thu 2 Apr 2026; Good Friday 3 Apr and Easter Monday 6 Apr are bank holidays:
    # 7, 8, 9 Apr -> the 3rd is Thu 9 Apr.
    assert add_working_days(date(2026, 4, 2), 3) == date(2026, 4, 9)


def test_day_zero_on_a_saturday_or_a_bank_holiday():
    # Day 0 Sat 21 Nov 2026: the first working day after it is Mon 23 Nov.
    assert add_working_days(date(2026, 11, 21), 1) == date(2026, 11, 23)
    assert add_working_days(date(2026, 11, 21), 5) == date(2026, 11, 27)
    # Day 0 Christmas Day 2025 (Thu, a bank holiday; Boxing Day too): Mon 29, Tue 30 Dec.
    assert add_working_days(date(2025, 12, 25), 2) == date(2025, 12, 30)


def test_a_clock_started_before_2000_has_its_deadline(tmp_path):
    """The calendar began on 1 Jan 2000, so a complaint received in 1999 and still open had no deadlines and
    was never overdue (found by reading kpis.md against the code). Received Mon 20 Dec 1999, never
    acknowledged: 21 (1), 22 (2), 23 (3), 24 (4), [25-26 weekend, 27 and 28 Dec bank holidays] 29 (5) ->
    acknowledgement due Wed 29 Dec 1999; the response 10 working days after it: 30 (1), [31 Dec 1999, the
    millennium's bank holiday, 1-2 Jan weekend, 3 Jan bank holiday] 4 (2) … 7 (5), 10 (6) … 14 (10) -> Fri
    14 Jan 2000."""
    from housing_assurance.kpis import compute
    from housing_assurance.scope import WHOLE_LANDLORD

    assert add_working_days(date(1999, 12, 20), 5) == date(1999, 12, 29)
    assert add_working_days(date(1999, 12, 29), 10) == date(2000, 1, 14)
    folder = write_extract(tmp_path, complaints=[{"complaint_id": "OLD", "received_at": datetime(1999, 12, 20, 9)}])
    extract = open_extract(folder, closures=())
    due = extract.con.sql("select stage1_ack_due_on, stage1_response_due_on_from_ack_due from complaint_clocks")
    assert due.fetchall() == [(date(1999, 12, 29), date(2000, 1, 14))]
    figures = {r["kpi_id"]: r["value"] for r in compute(
        extract, [date(2026, 11, 22)], WHOLE_LANDLORD, ["cx.open_complaints", "cx.open_overdue"]).iter_rows(named=True)}
    assert figures == {"cx.open_complaints": 1, "cx.open_overdue": 1}


def test_landlord_closures_extend_only_what_they_are_given():
    # With 29 Dec 2025 closed: 22, 23, 24, 30, 31 Dec -> Wed 31 Dec.
    assert add_working_days(date(2025, 12, 19), 5, [date(2025, 12, 29)]) == date(2025, 12, 31)
    assert not is_working_day(date(2025, 12, 29), [date(2025, 12, 29)])
    assert is_working_day(date(2025, 12, 29))


def _counted(day0: date, n: int, closed: set[date]) -> date:
    """The rule as kpis.md says it, one day at a time (an independent check of workdays.py)."""
    day, counted = day0, 0
    while counted < n:
        day += timedelta(days=1)
        if day.weekday() < 5 and day not in closed:
            counted += 1
    return day


def test_every_day_of_three_years_matches_a_plain_count():
    closures = (date(2025, 12, 29), date(2025, 12, 30), date(2026, 12, 29))
    holidays = set(bank_holidays())
    for i in range(3 * 366):
        d = date(2024, 10, 1) + timedelta(days=i)
        for n in clocks.working_day_lengths():
            assert add_working_days(d, n) == _counted(d, n, holidays), (d, n)
            assert add_working_days(d, n, closures) == _counted(d, n, holidays | set(closures)), (d, n)


def test_sql_deadlines_equal_python_for_every_clock_and_day(tmp_path):
    closures = (date(2025, 12, 29), date(2025, 12, 30), date(2026, 12, 29))
    extract = open_extract(write_extract(tmp_path), closures=closures)
    days = [date(2024, 10, 1) + timedelta(days=i) for i in range(3 * 366)]
    for c in clocks.CLOCKS.values():
        if c.unit != "working_days":
            continue
        got = extract.sql("select d, working_day_deadline($clock, d) as due from (select unnest($days::date[]) as d) "
                          "order by d", clock=c.code, days=days)
        for d, due in got.iter_rows():
            assert due == add_working_days(d, c.length, closures if c.calendar == "chc" else ()), (c.code, d)


def test_every_clock_the_sql_names_is_in_clocks_py():
    """A clock named in SQL but missing from clocks.py would silently never fall due."""
    import re

    from housing_assurance.db import QUERIES_DIR

    named = set()
    for path in QUERIES_DIR.rglob("*.sql"):
        text = path.read_text()
        named |= set(re.findall(r"(?:working_day_deadline|clock_length)\('([a-z0-9_]+)'", text))
        named |= set(re.findall(r"with_extension\([^)]*'([a-z0-9_]+)'\)", text))
    assert named, "the SQL names no clock: the pattern above is out of date"
    assert named <= set(clocks.CLOCKS), named - set(clocks.CLOCKS)
    assert set(clocks.CLOCKS) <= named, set(clocks.CLOCKS) - named  # no clock defined and never used


@pytest.mark.parametrize("code,title", [("investigated_10wd", "Investigated within 10 working days"),
                                        ("not_a_clock", "not_a_clock")])
def test_clock_titles_and_short_names(code, title):
    assert clocks.title(code) == title
    assert clocks.short_names("investigated_10wd, summary_3wd") == (
        "investigated in 10 working days; summary in 3 working days")
