-- One row per responsive repair job (emergency, urgent, routine) suspected not fixed, per
-- as-of date, in scope (the job's property's region, the job's team): completed in the 30
-- days before E (E - 30 days <= completed_at < E) and followed, within 14 days after
-- completed_at (completed_at < t <= completed_at + 14 days) and before E (t < E), by
--   - a repair_chase contact on that job (t = contacted_at), or
--   - a new responsive job of the same category at the same property (t = reported_at;
--     any team or region, whatever its status; never the job itself).
-- Follow-ups are searched in the whole extract. Behind: rp.suspected_not_fixed.
-- first_follow_up: the earliest (of two at one instant, the first by its words, as listed).
-- order by: as_of, completed_at, id
with weeks as (
    select * from reporting_weeks($as_of_dates)
),

jobs as (
    select *
    from stg_repairs as j
    where j.is_responsive
      and in_scope(j.region, j.team_id, $scope_region, cast($scope_teams as varchar[]))
),

completed_in_30_days as (
    select
        w.as_of,
        w.week_end,
        j.*
    from weeks as w
    inner join jobs as j
        on j.completed_at >= w.week_end - interval 30 day
        and j.completed_at < w.week_end
),

chase_follow_ups as (
    select
        c.as_of,
        c.job_id,
        'repair_chase contact' as follow_up,
        k.contact_id as follow_up_id,
        k.contacted_at as follow_up_at
    from completed_in_30_days as c
    inner join stg_contacts as k
        on k.job_id = c.job_id
        and k.reason = 'repair_chase'
        and k.contacted_at > c.completed_at
        and k.contacted_at <= c.completed_at + interval 14 day
        and k.contacted_at < c.week_end
),

new_job_follow_ups as (
    select
        c.as_of,
        c.job_id,
        'new job' as follow_up,
        n.job_id as follow_up_id,
        n.reported_at as follow_up_at
    from completed_in_30_days as c
    inner join stg_repairs as n
        on n.property_id = c.property_id
        and n.category = c.category
        and n.job_id <> c.job_id
        and n.is_responsive
        and n.reported_at > c.completed_at
        and n.reported_at <= c.completed_at + interval 14 day
        and n.reported_at < c.week_end
),

follow_ups as (
    select
        as_of,
        job_id,
        count(*) filter (where follow_up = 'repair_chase contact') as chases_after_completion,
        count(*) filter (where follow_up = 'new job') as new_jobs_after_completion,
        min(follow_up_at) as first_follow_up_at,
        -- at one instant, the first by its words
        arg_min(follow_up || ' ' || follow_up_id, (follow_up_at, follow_up || ' ' || follow_up_id)) as first_follow_up
    from (
        select * from chase_follow_ups
        union all
        select * from new_job_follow_ups
    ) as f
    group by as_of, job_id
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
        c.reported_at,
        c.target_at,
        c.completed_at,
        f.first_follow_up,
        f.first_follow_up_at,
        (epoch_us(f.first_follow_up_at) - epoch_us(c.completed_at)) / 86400000000 as days_to_follow_up,
        f.chases_after_completion,
        f.new_jobs_after_completion,
        c.is_in_house
    from completed_in_30_days as c
    inner join follow_ups as f on f.as_of = c.as_of and f.job_id = c.job_id
)

select * from final
