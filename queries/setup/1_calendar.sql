-- The calendar every query shares (run once when an extract is opened, after housing_assurance/db.py
-- has loaded two tables built in Python: working_day_deadlines from workdays.py, one row per date and
-- per number of working days a clock counts, and clock_lengths from clocks.py, one row per clock).

-- The week ending on as-of date D starts on D-6 00:00 and ends at E = D+1 00:00.
create or replace macro week_start(as_of) as cast(as_of - 6 as timestamp);
create or replace macro week_end(as_of) as cast(as_of + 1 as timestamp);

-- One row per as-of date D: the week D-6 .. D, its end E = D+1 00:00, and the financial year start.
create or replace macro reporting_weeks(as_of_dates) as table
    select
        as_of,
        week_start(as_of) as week_start,
        week_end(as_of) as week_end,
        cast(make_date(if(month(as_of) >= 4, year(as_of), year(as_of) - 1), 4, 1) as timestamp) as fy_start
    from (select unnest(cast(as_of_dates as date[])) as as_of);

-- Whether an instant falls between the first of these weeks' starts and the last one's end. A query
-- that joins a large table to reporting_weeks by a range on one timestamp filters the table with it
-- first: the bounds are constants once the dates are bound, so DuckDB skips the table's other row
-- groups before the join (the join still decides which week a row is in).
create or replace macro within_reporting_weeks(ts, as_of_dates) as
    ts >= week_start(list_min(cast(as_of_dates as date[])))
    and ts < week_end(list_max(cast(as_of_dates as date[])));

-- The last instant that still meets a deadline date (an action any time that day meets it).
create or replace macro end_of_day(d) as cast(cast(d as date) + 1 as timestamp) - interval 1 microsecond;

-- A clock's length in its unit (hours, working days or calendar days), from clocks.py by its code.
create or replace macro clock_length(clock_code) as (
    select l.length from clock_lengths as l where l.clock = clock_code
);

-- The deadline date of a working-day clock started on day 0 (the calendar date of the event): the
-- Nth working day after day 0, on the clock's calendar (awaab: weekends and bank holidays excluded;
-- chc: also the landlord's closure dates). N and the calendar come from clocks.py, never from here.
create or replace macro working_day_deadline(clock_code, day0) as (
    select case l.calendar when 'awaab' then w.awaab_due_on when 'chc' then w.chc_due_on end
    from clock_lengths as l
    inner join working_day_deadlines as w on w.working_days = l.length
    where l.clock = clock_code and l.unit = 'working_days' and w.from_day = cast(day0 as date)
);
