-- Run once when an extract is opened (housing_assurance/db.py), after the contract
-- tables and the working-day calendar are loaded. The shared rules of kpis.md live
-- here, written once, and every KPI query in this folder uses them:
-- reporting week, scope, homes, vulnerable households, and every clock's deadline.

-- A row's home (kpis.md "Scope"): its property_id, or where that is null its household's
-- property. Added once here to the tables whose rows are scoped, as home_id with the home's
-- region, area and tenure, so that no query repeats the rule (or its joins).
create or replace macro at_home(table_name) as table
select
    t.*,
    coalesce(t.property_id, hh.property_id) as home_id,
    p.region as home_region,
    p.area as home_area,
    p.tenure as home_tenure
from query_table(table_name) as t
left join households as hh on hh.household_id = t.household_id
left join properties as p on p.property_id = coalesce(t.property_id, hh.property_id);

create or replace table damp_mould_cases as select * from at_home('damp_mould_cases');
create or replace table complaints as select * from at_home('complaints');

-- A repair job is open until the earlier of completed_at and cancelled_at (never, if neither is
-- set). The table is stored in that order so that "open at E" reads only the row groups of jobs
-- still open at E: at 120,000 homes that is a few percent of the table.
create or replace table repairs as
select
    *,
    coalesce(least(completed_at, cancelled_at), 'infinity'::timestamp) as open_until
from at_home('repairs')
order by open_until, reported_at;

-- Contacts stored by reason, so that the repair-chase searches skip every other contact.
create or replace table contacts as select * from contacts order by reason, job_id, contacted_at;

-- Repair jobs with what the repairs queries read beside the contract columns: the home's
-- region, area and tenure under plain names, the contractor, and whether the job is responsive
-- (emergency, urgent or routine; planned jobs are not).
create or replace view repair_jobs as
select
    j.*,
    j.home_region as region,
    j.home_area as area,
    j.home_tenure as tenure,
    k.contractor_name,
    k.is_in_house,
    coalesce(j.priority in ('emergency', 'urgent', 'routine'), false) as is_responsive
from repairs as j
left join contractors as k on k.contractor_id = j.contractor_id;

-- Complaints and damp and mould cases with their home's region and area under plain names.
-- Here a row's property_id is its home: its own, or its household's (kpis.md "Scope"), so that
-- look-backs at the home (earlier cases at the same property) find rows recorded either way.
create or replace view complaints_at_homes as
select
    c.* replace (c.home_id as property_id),
    c.home_region as region,
    c.home_area as area
from complaints as c;

create or replace view damp_mould_cases_at_homes as
select
    c.* replace (c.home_id as property_id),
    c.home_region as region,
    c.home_area as area
from damp_mould_cases as c;

-- The Nth working day after day 0 (day 0 = the calendar date of the event).
-- awaab: weekends and England and Wales bank holidays excluded.
-- chc: the same, plus the landlord's closure dates (complaint clocks only).
-- Deadlines are looked up in working_day_deadlines, built by housing_assurance/workdays.py.
create or replace macro awaab_deadline(day0, n) as (
    select w.awaab_due_on from working_day_deadlines as w
    where w.from_day = cast(day0 as date) and w.working_days = n
);

create or replace macro chc_deadline(day0, n) as (
    select w.chc_due_on from working_day_deadlines as w
    where w.from_day = cast(day0 as date) and w.working_days = n
);

-- The last instant that still meets a deadline date (an action any time that day meets it).
create or replace macro end_of_day(d) as cast(cast(d as date) + 1 as timestamp) - interval 1 microsecond;

-- One row per as-of date D: the week D-6 .. D, its end E = D+1 00:00, and the financial year start.
create or replace macro reporting_weeks(as_of_dates) as table
    select
        as_of,
        cast(as_of - 6 as timestamp) as week_start,
        cast(as_of + 1 as timestamp) as week_end,
        cast(make_date(if(month(as_of) >= 4, year(as_of), year(as_of) - 1), 4, 1) as timestamp) as fy_start
    from (select unnest(cast(as_of_dates as date[])) as as_of);

-- A row's property: its own property_id, or where that is null its household's.
create or replace view household_homes as
    select household_id, property_id from households;

-- Scope: a row passes when it is in the region (if any) and owned by one of the teams (if any).
create or replace macro in_scope(row_region, row_team_id, scope_region, scope_teams) as
    coalesce(
        (scope_region is null or row_region = scope_region)
        and (scope_teams is null or list_contains(scope_teams, row_team_id)),
        false);

-- The regions whose homes and households make the denominators: R, else the teams' regions.
create or replace macro scope_regions(scope_region, scope_teams) as
    case
        when scope_region is not null then [scope_region]
        when scope_teams is not null then coalesce(
            (select list(distinct t.region) from teams as t where list_contains(scope_teams, t.team_id)),
            [])
    end;

-- Homes for "per 1,000 homes": in stock on D, leasehold excluded.
create or replace macro homes_in_stock(as_of, regions) as (
    select count(*)
    from properties as p
    where (p.in_stock_from is null or p.in_stock_from <= as_of)
      and (p.in_stock_to is null or p.in_stock_to > as_of)
      and p.tenure in ('general_needs', 'supported', 'older_persons', 'shared_ownership')
      and (regions is null or list_contains(regions, p.region))
);

-- Low-cost rental (TSM RP02 counts only jobs at these homes), whatever the stock dates.
create or replace macro is_rented_tenure(tenure) as
    coalesce(tenure in ('general_needs', 'supported', 'older_persons'), false);

-- A tenancy covers date d when it started on or before d and has not ended before d.
create or replace macro tenancy_covers(tenancy_start, tenancy_end, d) as
    tenancy_start <= d and (tenancy_end is null or tenancy_end >= d);

-- Vulnerable household at D: at least one vulnerability recorded on or before D, that is,
-- its first vulnerability was recorded on or before D (kept once per household).
-- A row with no household_id belongs to a vulnerable household when any household
-- whose tenancy at the row's property covers the row's date is vulnerable.
create or replace table household_vulnerable_since as
select household_id, min(recorded_on) as vulnerable_since
from vulnerabilities
group by household_id;

create or replace macro is_vulnerable_household(row_household_id, as_of) as
    coalesce((
        select v.vulnerable_since <= as_of from household_vulnerable_since as v
        where v.household_id = row_household_id), false);

create or replace macro belongs_to_vulnerable_household(row_household_id, row_property_id, row_date, as_of) as
    case
        when row_household_id is not null then is_vulnerable_household(row_household_id, as_of)
        else coalesce(exists (
            select 1
            from households as h
            inner join household_vulnerable_since as v on v.household_id = h.household_id
            where h.property_id = row_property_id
              and tenancy_covers(h.tenancy_start, h.tenancy_end, cast(row_date as date))
              and v.vulnerable_since <= as_of), false)
    end;

-- First-time fix (rp.first_time_fix_pct, and the contractor scorecard): exactly one attended
-- appointment with slot_start before E, and no job with parent_job_id = the job reported before E
-- (any priority or status). Counts of what is known at E; later visits and jobs are not yet known.
create or replace macro attended_appointments_known(job, week_end) as (
    select count(*) from appointments as a
    where a.job_id = job and a.outcome = 'attended' and a.slot_start < week_end
);

create or replace macro follow_on_jobs_known(job, week_end) as (
    select count(*) from repairs as f
    where f.parent_job_id = job and f.reported_at < week_end
);

create or replace macro is_first_time_fix(attended_appointments, follow_on_jobs) as
    coalesce(attended_appointments, 0) = 1 and coalesce(follow_on_jobs, 0) = 0;

-- Awaab's Law clocks, one row per case and clock that applies to it. due_by is the
-- last instant that meets the clock: reported_at + 24h for the hour clock, the end
-- of the deadline date for the working-day and 12-week clocks. action_at is when the
-- clock's action happened (for the emergency clock, the later of the two actions,
-- and null until both are done).
create or replace table dm_case_clocks as
with emergency as (
    select
        case_id,
        'emergency_made_safe_24h' as clock,
        cast(reported_at + interval 24 hour as date) as due_on,
        reported_at + interval 24 hour as due_by,
        case
            when investigation_completed_at is not null and safety_work_completed_at is not null
                then greatest(investigation_completed_at, safety_work_completed_at)
        end as action_at
    from damp_mould_cases
    where hazard_level = 'emergency'
),

investigated as (
    select
        case_id,
        'investigated_10wd' as clock,
        awaab_deadline(reported_at, 10) as due_on,
        end_of_day(awaab_deadline(reported_at, 10)) as due_by,
        investigation_completed_at as action_at
    from damp_mould_cases
    where hazard_level is null or hazard_level <> 'emergency'
),

summary as (
    select
        case_id,
        'summary_3wd' as clock,
        awaab_deadline(investigation_completed_at, 3) as due_on,
        end_of_day(awaab_deadline(investigation_completed_at, 3)) as due_by,
        summary_sent_at as action_at
    from damp_mould_cases
    where investigation_completed_at is not null
),

safety_work as (
    select
        case_id,
        'safety_work_5wd' as clock,
        awaab_deadline(investigation_completed_at, 5) as due_on,
        end_of_day(awaab_deadline(investigation_completed_at, 5)) as due_by,
        safety_work_completed_at as action_at
    from damp_mould_cases
    where hazard_level = 'significant' and investigation_completed_at is not null
),

further_work as (
    select
        case_id,
        'further_work_12wk' as clock,
        cast(investigation_completed_at as date) + 84 as due_on,
        end_of_day(cast(investigation_completed_at as date) + 84) as due_by,
        further_work_started_at as action_at
    from damp_mould_cases
    where further_work_required and investigation_completed_at is not null
),

final as (
    select * from emergency
    union all select * from investigated
    union all select * from summary
    union all select * from safety_work
    union all select * from further_work
)

select * from final;

-- Complaint Handling Code clocks, one row per complaint. Because an acknowledgement
-- recorded at or after E is not yet known at E, each response deadline is kept in two
-- versions: from the recorded acknowledgement, and from the acknowledgement deadline;
-- response_due_on() picks the one that applies at E. An agreed extension moves the
-- deadline to its date when later, capped at 10 (stage 1) or 20 (stage 2) working days
-- after the normal deadline.
create or replace macro with_extension(normal_due_on, extended_to, cap_days) as
    case
        when extended_to > normal_due_on then least(extended_to, chc_deadline(normal_due_on, cap_days))
        else normal_due_on
    end;

create or replace table complaint_clocks as
with acknowledgement_deadlines as (
    select
        complaint_id,
        stage1_extended_to,
        stage2_extended_to,
        chc_deadline(received_at, 5) as stage1_ack_due_on,
        stage1_acknowledged_at,
        stage2_requested_at,
        case when stage2_requested_at is not null then chc_deadline(stage2_requested_at, 5) end
            as stage2_ack_due_on,
        stage2_acknowledged_at
    from complaints
),

normal_response_deadlines as (
    select
        *,
        chc_deadline(stage1_acknowledged_at, 10) as stage1_normal_due_from_ack,
        chc_deadline(stage1_ack_due_on, 10) as stage1_normal_due_from_ack_due,
        chc_deadline(stage2_acknowledged_at, 20) as stage2_normal_due_from_ack,
        chc_deadline(stage2_ack_due_on, 20) as stage2_normal_due_from_ack_due
    from acknowledgement_deadlines
),

final as (
    select
        complaint_id,
        stage1_ack_due_on,
        with_extension(stage1_normal_due_from_ack, stage1_extended_to, 10) as stage1_response_due_on_from_ack,
        with_extension(stage1_normal_due_from_ack_due, stage1_extended_to, 10)
            as stage1_response_due_on_from_ack_due,
        stage2_ack_due_on,
        with_extension(stage2_normal_due_from_ack, stage2_extended_to, 20) as stage2_response_due_on_from_ack,
        with_extension(stage2_normal_due_from_ack_due, stage2_extended_to, 20)
            as stage2_response_due_on_from_ack_due
    from normal_response_deadlines
)

select * from final;

-- The response deadline that applies at E: from the acknowledgement if it was recorded before E.
create or replace macro response_due_on(acknowledged_at, week_end, due_from_ack, due_from_ack_due) as
    case when acknowledged_at < week_end then due_from_ack else due_from_ack_due end;
