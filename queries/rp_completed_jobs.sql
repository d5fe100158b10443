-- One row per responsive repair job (emergency, urgent, routine; planned excluded) whose
-- completed_at is in the reporting week (or, when asked, the financial year to date), per as-of date, in scope
-- (the job's property's region, the job's team). Completion is read from completed_at, never the
-- status column.
-- Window: completed_at in [week start, E), or in [least(week start, FY start), E) when
-- $with_fytd is true; in_week / in_fytd say which. Every weekly figure reads the week alone, so
-- only the TSM return asks for the year (at 120,000 homes the year is 30 times the week's rows).
-- Behind (in_week): rp.emergency_on_time_pct and rp.non_emergency_on_time_pct (RP02: filtered on
-- priority and is_rented_home), rp.avg_days_to_complete, rp.first_time_fix_pct,
-- rp.unverified_completion_pct and the ct.* on-time and first-time-fix splits (is_in_house).
-- Behind (in_fytd): the TSM return's RP02 for the reporting year (housing_assurance/tsm.py).
-- Appointments and follow-on jobs are searched in the whole extract, up to E only.
-- Choices where kpis.md is silent:
--   - a job counts as completed in the week by its completed_at alone, whatever its status or
--     cancelled_at (a contradiction there is a data-quality warning, not an input);
--   - first-time fix counts the attended appointments only (no_access, cancelled … appointments
--     before the attended one do not spoil it), and a follow-on job of any priority or status;
--   - is_in_house is null when the job's contractor is not in the contractors table: the job
--     counts in the rp.* figures but in neither ct.* split;
--   - days_late is max(completed_at - target_at, 0) in fractional days, for the drill-down only.
-- order by: as_of, days_late desc, reported_at, id
with weeks as (
    select * from reporting_weeks($as_of_dates)
),

jobs as (
    select *
    from stg_repairs as j
    where j.is_responsive
      and in_scope(j.region, j.team_id, $scope_region, cast($scope_teams as varchar[]))
),

completed as (
    select
        w.as_of,
        w.week_start,
        w.week_end,
        w.fy_start,
        j.*
    from weeks as w
    inner join jobs as j
        on j.completed_at >= if($with_fytd, least(w.week_start, w.fy_start), w.week_start)
        and j.completed_at < w.week_end
),

-- What is known at E about each job's visits and follow-on jobs (rules in _setup.sql).
known_at_week_end as (
    select
        c.*,
        attended_appointments_known(c.job_id, c.week_end) as attended_appointments,
        follow_on_jobs_known(c.job_id, c.week_end) as follow_on_jobs
    from completed as c
),

final as (
    select
        c.as_of,
        c.job_id as id,
        c.property_id,
        c.region,
        c.area,
        c.team_id,
        c.contractor_id,
        c.contractor_name,
        c.priority,
        c.category,
        c.tenure,
        c.reported_at,
        c.target_at,
        c.completed_at,
        greatest((epoch_us(c.completed_at) - epoch_us(c.target_at)) / 86400000000, 0) as days_late,
        (epoch_us(c.completed_at) - epoch_us(c.reported_at)) / 86400000000 as days_to_complete,
        c.attended_appointments,
        c.follow_on_jobs,
        c.completion_verified,
        c.source_system,
        c.cost_gbp,
        c.is_rented_home,
        c.completed_at >= c.week_start as in_week,
        c.completed_at >= c.fy_start as in_fytd,
        coalesce(c.completed_at <= c.target_at, false) as is_on_time,
        is_first_time_fix(c.attended_appointments, c.follow_on_jobs) as is_first_time_fix,
        c.completion_verified is distinct from true as is_unverified,
        c.is_in_house
    from known_at_week_end as c
)

select * from final
