"""Working days: the hand-worked examples of kpis.md, and SQL deadlines equal to Python's."""

from datetime import date, datetime, timedelta

from extract_factory import write_extract

from housing_assurance.db import open_extract
from housing_assurance.workdays import CLOCK_WORKING_DAYS, add_working_days, hour_deadline


def test_kpis_md_example_over_christmas():
    # Day 0 Fri 19 Dec 2025 14:00; 25 and 26 Dec are bank holidays; working days after day 0:
    # 22, 23, 24, 29, 30 Dec -> the 5th is Tue 30 Dec 2025.
    assert add_working_days(datetime(2025, 12, 19, 14), 5) == date(2025, 12, 30)


def test_easter_2026():
    # Day 0 Thu 2 Apr 2026; Good Friday 3 Apr and Easter Monday 6 Apr are bank holidays:
    # 7, 8, 9 Apr -> the 3rd is Thu 9 Apr.
    assert add_working_days(date(2026, 4, 2), 3) == date(2026, 4, 9)


def test_day_zero_on_a_saturday():
    # Day 0 Sat 21 Nov 2026: the first working day after it is Mon 23 Nov.
    assert add_working_days(date(2026, 11, 21), 1) == date(2026, 11, 23)
    assert add_working_days(date(2026, 11, 21), 5) == date(2026, 11, 27)


def test_landlord_closures_extend_only_what_they_are_given():
    # With 29 Dec 2025 closed: 22, 23, 24, 30, 31 Dec -> Wed 31 Dec.
    assert add_working_days(date(2025, 12, 19), 5, [date(2025, 12, 29)]) == date(2025, 12, 31)


def test_hour_clock_runs_through_the_weekend():
    assert hour_deadline(datetime(2026, 1, 3, 10), 24) == datetime(2026, 1, 4, 10)


def test_sql_deadlines_equal_python_for_every_day_of_three_years(tmp_path):
    closures = (date(2025, 12, 29), date(2025, 12, 30), date(2026, 12, 29))
    extract = open_extract(write_extract(tmp_path), closures=closures)
    days = [date(2024, 10, 1) + timedelta(days=i) for i in range(3 * 366)]
    for n in CLOCK_WORKING_DAYS:
        got = extract.sql(
            "select d, awaab_deadline(d, $n) as awaab, chc_deadline(d, $n) as chc "
            "from (select unnest($days::date[]) as d) order by d", n=n, days=days)
        for d, awaab, chc in got.iter_rows():
            assert awaab == add_working_days(d, n), (d, n)
            assert chc == add_working_days(d, n, closures), (d, n)
