-- One row per complaint with a Housing Ombudsman finding of severe maladministration or maladministration
-- determined in the financial year to date, per as-of date, in scope: ombudsman_determined_at (a date)
-- from 1 April up to E, i.e. on or before D. ombudsman_outcome has no time of its own: taken as it stands.
-- order by: as_of, ombudsman_determined_at, id
with weeks as (
    select * from reporting_weeks($as_of_dates)
),

complaints_in_scope as (
    select *
    from stg_complaints as c
    where in_scope(c.region, c.team_id, $scope_region, cast($scope_teams as varchar[]))
),

determinations as (
    select
        w.as_of,
        c.*
    from weeks as w
    inner join complaints_in_scope as c
        on c.ombudsman_determined_at >= cast(w.fy_start as date)
        and c.ombudsman_determined_at < w.week_end
    where c.ombudsman_outcome in ('severe_maladministration', 'maladministration')
),

final as (
    select
        as_of,
        complaint_id as id,
        complaint_id,
        property_id,
        region,
        area,
        team_id,
        category,
        received_at,
        outcome,
        ombudsman_referred_at,
        ombudsman_determined_at,
        ombudsman_outcome,
        compensation_offered_gbp,
        compensation_paid_gbp
    from determinations
)

select * from final
