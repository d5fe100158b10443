-- One row per damp and mould case open at the end of the week (E), per as-of date, in scope.
-- Open at E: dm_cases_open_at (setup/6_open_at.sql).
-- Flags: the open-case KPIs (emergency, unassessed, vulnerable household, overdue, no job) filter on them.
-- order by: as_of, first_breached_due_by nulls last, reported_at, id
with open_at_week_end as (
    select *
    from dm_cases_open_at($as_of_dates) as c
    where in_scope(c.region, c.team_id, $scope_region, cast($scope_teams as varchar[]))
),

-- Breaches still running at E: a clock whose deadline has passed by E and whose action is not done by E.
breaches_running as (
    select
        o.as_of,
        o.case_id,
        string_agg(k.clock, ', ' order by k.due_by, k.clock) as clocks_breached,  -- a tie: by name
        min(k.due_by) as first_breached_due_by
    from open_at_week_end as o
    inner join dm_case_clocks as k on k.case_id = o.case_id
    where k.due_by < o.week_end
      and (k.action_at is null or k.action_at >= o.week_end)
    group by o.as_of, o.case_id
),

jobs_linked as (
    select
        o.as_of,
        o.case_id,
        count(*) as jobs_linked
    from open_at_week_end as o
    inner join repairs as j on j.dm_case_id = o.case_id and j.reported_at < o.week_end
    group by o.as_of, o.case_id
),

final as (
    select
        o.as_of,
        o.case_id as id,
        o.property_id,
        o.region,
        o.area,
        o.team_id,
        o.reported_at,
        o.hazard_level,
        o.severity_category,
        o.investigation_completed_at,
        b.clocks_breached,
        b.first_breached_due_by,
        date_diff('microsecond', o.reported_at, o.week_end) / 86400e6 as days_open,
        coalesce(j.jobs_linked, 0) as jobs_linked,
        coalesce(o.hazard_level = 'emergency', false) as is_emergency,
        o.investigation_completed_at is null or o.investigation_completed_at >= o.week_end as is_unassessed,
        belongs_to_vulnerable_household(o.household_id, o.property_id, o.reported_at, o.as_of)
            as is_vulnerable_household,
        b.case_id is not null as is_overdue,
        coalesce(o.hazard_level in ('emergency', 'significant'), false) and j.case_id is null as is_without_job
    from open_at_week_end as o
    left join breaches_running as b on b.as_of = o.as_of and b.case_id = o.case_id
    left join jobs_linked as j on j.as_of = o.as_of and j.case_id = o.case_id
)

select * from final
