-- One row per damp and mould case and Awaab's Law clock whose deadline falls in the week
-- (D-6 00:00 <= due_by < E), per as-of date, in scope. meets: the clock's action happened
-- at or before the deadline (and before E: nothing at or after E is known at E).
-- days_over_deadline: for a row that does not meet it, how far past the deadline its action came (or, not
-- done by E, how far past it E is); is_vulnerable_household as for the open-case KPIs. Both say why.
-- The clocks and their deadlines are built once, in _setup.sql (dm_case_clocks).
-- order by: as_of, clock, meets, due_by, id
with weeks as (
    select * from reporting_weeks($as_of_dates)
),

cases_in_scope as (
    select *
    from stg_damp_mould_cases as c
    where in_scope(c.region, c.team_id, $scope_region, cast($scope_teams as varchar[]))
),

clocks_due as (
    select
        w.as_of,
        w.week_end,
        k.*
    from weeks as w
    inner join dm_case_clocks as k
        on k.due_by >= w.week_start
        and k.due_by < w.week_end
),

judged as (
    select
        d.*,
        case when d.action_at < d.week_end then d.action_at end as action_known_at
    from clocks_due as d
),

final as (
    select
        d.as_of,
        d.case_id as id,
        d.clock,
        c.property_id,
        c.region,
        c.area,
        c.team_id,
        c.hazard_level,
        c.reported_at,
        d.due_on,
        d.due_by,
        d.action_known_at as action_at,
        coalesce(d.action_known_at <= d.due_by, false) as meets,
        case when not coalesce(d.action_known_at <= d.due_by, false) then greatest(
            date_diff('microsecond', d.due_by, coalesce(d.action_known_at, d.week_end)) / 86400e6, 0)
        end as days_over_deadline,
        belongs_to_vulnerable_household(c.household_id, c.property_id, c.reported_at, d.as_of)
            as is_vulnerable_household
    from judged as d
    inner join cases_in_scope as c on c.case_id = d.case_id
)

select * from final
