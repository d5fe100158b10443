-- One row per complaint received (stage 1) in the week or the financial year to date, per as-of date, in scope.
-- Window: received_at in [least(week start, FY start), E). in_week: received in D-6 .. D
-- (cx.stage1_received); in_fytd: received from 1 April up to E (cx.stage1_per_1000_homes_fytd).
-- A complaint's property is its property_id or, where null, its household's property.
-- order by: as_of, received_at, id
with weeks as (
    select * from reporting_weeks($as_of_dates)
),

complaints_in_scope as (
    select *
    from stg_complaints as c
    where in_scope(c.region, c.team_id, $scope_region, cast($scope_teams as varchar[]))
),

received as (
    select
        w.as_of,
        w.week_start,
        w.fy_start,
        c.*
    from weeks as w
    inner join complaints_in_scope as c
        on c.received_at >= least(w.week_start, w.fy_start)
        and c.received_at < w.week_end
),

final as (
    select
        r.as_of,
        r.complaint_id as id,
        r.complaint_id,
        r.property_id,
        r.region,
        r.area,
        r.team_id,
        r.category,
        r.received_at,
        k.stage1_ack_due_on,
        r.received_at >= r.week_start as in_week,
        r.received_at >= r.fy_start as in_fytd
    from received as r
    left join complaint_clocks as k on k.complaint_id = r.complaint_id
)

select * from final
