-- One row per damp and mould case resolved in the week, per as-of date, in scope,
-- with the days (fractional) from report to resolution.
-- order by: as_of, days_to_resolve desc, id
with weeks as (
    select * from reporting_weeks($as_of_dates)
),

cases_in_scope as (
    select *
    from stg_damp_mould_cases as c
    where in_scope(c.region, c.team_id, $scope_region, cast($scope_teams as varchar[]))
),

final as (
    select
        w.as_of,
        c.case_id as id,
        c.property_id,
        c.region,
        c.area,
        c.team_id,
        c.hazard_level,
        c.root_cause,
        c.reported_at,
        c.resolved_at,
        date_diff('microsecond', c.reported_at, c.resolved_at) / 86400e6 as days_to_resolve
    from weeks as w
    inner join cases_in_scope as c
        on c.resolved_at >= w.week_start
        and c.resolved_at < w.week_end
)

select * from final
