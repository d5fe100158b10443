-- One row per repair job of any priority (planned included) reported in the week, per
-- as-of date, in scope (the job's property's region, the job's team).
-- Behind: rp.repeat_repairs_pct (filtered on is_responsive; is_repeat) and
-- rp.offline_record_pct (every priority; is_offline_record).
-- Repeat: a responsive job whose property had another responsive job of the same category
-- completed in the 30 days before this job's reported_at (reported_at - 30 days <= completed_at
-- < reported_at). The earlier job is searched in the whole extract (any team, any region),
-- whatever its status or cancelled_at; the job itself never counts as its own earlier job.
-- earlier_job_id names the latest completed of them (of two completed at one instant, the greater id).
-- order by: as_of, reported_at, id
with weeks as (
    select * from reporting_weeks($as_of_dates)
),

jobs as (
    select *
    from stg_repairs as j
    where in_scope(j.region, j.team_id, $scope_region, cast($scope_teams as varchar[]))
),

reported_in_week as (
    select
        w.as_of,
        j.*
    from weeks as w
    inner join jobs as j
        on j.reported_at >= w.week_start
        and j.reported_at < w.week_end
),

earlier_jobs as (
    select
        r.as_of,
        r.job_id,
        count(*) as earlier_jobs,
        max(e.completed_at) as earlier_completed_at,
        arg_max(e.job_id, (e.completed_at, e.job_id)) as earlier_job_id  -- a tie: the greater id
    from reported_in_week as r
    inner join stg_repairs as e
        on e.property_id = r.property_id
        and e.category = r.category
        and e.job_id <> r.job_id
        and e.is_responsive
        and e.completed_at >= r.reported_at - interval 30 day
        and e.completed_at < r.reported_at
    where r.is_responsive
    group by r.as_of, r.job_id
),

final as (
    select
        r.as_of,
        r.job_id as id,
        r.property_id,
        r.region,
        r.area,
        r.team_id,
        r.contractor_id,
        r.contractor_name,
        r.priority,
        r.category,
        r.reported_at,
        r.target_at,
        r.source_system,
        e.earlier_job_id,
        e.earlier_completed_at,
        r.is_responsive,
        r.is_responsive and e.job_id is not null as is_repeat,
        coalesce(r.source_system = 'spreadsheet', false) as is_offline_record,
        r.is_in_house
    from reported_in_week as r
    left join earlier_jobs as e on e.as_of = r.as_of and e.job_id = r.job_id
)

select * from final
