-- One row per damp and mould case reported in the week or in the financial year to date
-- (whichever window starts first), per as-of date, in scope.
-- in_week / in_fytd say which window the case falls in; is_repeat: the home had another case
-- reported in the 365 days before this one, or this case reopens an earlier one.
-- order by: as_of, reported_at, id
with weeks as (
    select * from reporting_weeks($as_of_dates)
),

cases_in_scope as (
    select *
    from stg_damp_mould_cases as c
    where in_scope(c.region, c.team_id, $scope_region, cast($scope_teams as varchar[]))
),

reported as (
    select
        w.as_of,
        w.week_start,
        w.week_end,
        w.fy_start,
        c.*
    from weeks as w
    inner join cases_in_scope as c
        on c.reported_at >= least(w.week_start, w.fy_start)
        and c.reported_at < w.week_end
),

-- Look-back over the whole extract, not just the scope. Both cases are at their homes: a case
-- recorded with only a household is at that household's property.
earlier_case_at_home as (
    select distinct
        r.as_of,
        r.case_id
    from reported as r
    inner join stg_damp_mould_cases as earlier
        on earlier.property_id = r.property_id
        and earlier.case_id <> r.case_id
        and earlier.reported_at >= r.reported_at - interval 365 day
        and earlier.reported_at < r.reported_at
),

final as (
    select
        r.as_of,
        r.case_id as id,
        r.property_id,
        r.region,
        r.area,
        r.team_id,
        r.reported_at,
        r.source,
        r.hazard_level,
        r.root_cause,
        r.reopened_from_case_id,
        r.reported_at >= r.week_start as in_week,
        r.reported_at >= r.fy_start as in_fytd,
        e.case_id is not null or r.reopened_from_case_id is not null as is_repeat
    from reported as r
    left join earlier_case_at_home as e on e.as_of = r.as_of and e.case_id = r.case_id
)

select * from final
