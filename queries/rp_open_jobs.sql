-- One row per responsive repair job (emergency, urgent, routine) open at the end of the
-- week (E), per as-of date, in scope (the job's property's region, the job's team).
-- Open at E: reported before E, and neither completed nor cancelled before E (open_until, set
-- in _setup.sql, is the earlier of completed_at and cancelled_at, or never). Read from
-- the timestamps, never the status column: a job whose status says completed but whose
-- completed_at is at or after E was still open at E.
-- Behind: rp.open_jobs, rp.open_overdue_jobs (is_overdue), rp.repeat_contact_open_jobs
-- (has_three_chases) and vu.open_overdue_jobs_vulnerable (is_overdue and
-- is_vulnerable_household). Chase contacts are searched in the whole extract, up to E.
-- order by: as_of, target_at, reported_at, id
with weeks as (
    select * from reporting_weeks($as_of_dates)
),

jobs as (
    select *
    from stg_repairs as j
    where j.is_responsive
      and in_scope(j.region, j.team_id, $scope_region, cast($scope_teams as varchar[]))
),

open_at_week_end as (
    select
        w.as_of,
        w.week_end,
        j.*
    from weeks as w
    inner join jobs as j
        on j.reported_at < w.week_end
        and j.open_until >= w.week_end
),

-- repair_chase contacts on the job made before E (at any time before E, whatever the job's dates).
chases as (
    select
        o.as_of,
        o.job_id,
        count(*) as chases,
        max(c.contacted_at) as last_chased_at
    from open_at_week_end as o
    inner join stg_contacts as c
        on c.job_id = o.job_id
        and c.reason = 'repair_chase'
        and c.contacted_at < o.week_end
    group by o.as_of, o.job_id
),

final as (
    select
        o.as_of,
        o.job_id as id,
        o.property_id,
        o.region,
        o.area,
        o.team_id,
        o.contractor_id,
        o.contractor_name,
        o.priority,
        o.category,
        o.reported_at,
        o.target_at,
        o.status as status_in_extract,
        (epoch_us(o.week_end) - epoch_us(o.reported_at)) / 86400000000 as days_open,
        greatest((epoch_us(o.week_end) - epoch_us(o.target_at)) / 86400000000, 0) as days_overdue,
        coalesce(ch.chases, 0) as chases,
        ch.last_chased_at,
        coalesce(o.target_at < o.week_end, false) as is_overdue,
        coalesce(ch.chases, 0) >= 3 as has_three_chases,
        belongs_to_vulnerable_household(o.household_id, o.property_id, o.reported_at, o.as_of)
            as is_vulnerable_household,
        o.is_in_house
    from open_at_week_end as o
    left join chases as ch on ch.as_of = o.as_of and ch.job_id = o.job_id
)

select * from final
