-- One row per complaint escalated to stage 2 in the week or the financial year to date, per as-of date, in scope.
-- Window: stage2_requested_at in [least(week start, FY start), E). in_week: requested in D-6 .. D
-- (cx.stage2_received); in_fytd: requested from 1 April up to E (cx.stage2_per_1000_homes_fytd).
-- A complaint's property is its property_id or, where null, its household's property.
-- order by: as_of, stage2_requested_at, id
with weeks as (
    select * from reporting_weeks($as_of_dates)
),

complaints_in_scope as (
    select *
    from stg_complaints as c
    where in_scope(c.region, c.team_id, $scope_region, cast($scope_teams as varchar[]))
),

requested as (
    select
        w.as_of,
        w.week_start,
        w.week_end,
        w.fy_start,
        c.*
    from weeks as w
    inner join complaints_in_scope as c
        on c.stage2_requested_at >= least(w.week_start, w.fy_start)
        and c.stage2_requested_at < w.week_end
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
        -- Nothing at or after E is known at E.
        case when r.stage1_responded_at < r.week_end then r.stage1_responded_at end as stage1_responded_at,
        r.stage2_requested_at,
        k.stage2_ack_due_on,
        r.stage2_requested_at >= r.week_start as in_week,
        r.stage2_requested_at >= r.fy_start as in_fytd
    from requested as r
    left join complaint_clocks as k on k.complaint_id = r.complaint_id
)

select * from final
