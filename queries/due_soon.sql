-- One row per open clock falling due soon at D (kpis.md "Due soon"), per as-of date, in scope: the case
-- is open at E, the clock has started and is not met before E, its deadline (due_by, the last instant
-- that meets it) is at or after E (not yet breached) and on or before the end of the window's last day
-- (the fifth working day after D: clocks.py DUE_SOON_WINDOW).
-- Clocks: the Awaab's Law clocks of open damp and mould cases, and for an open complaint its current
-- stage's acknowledgement (while not acknowledged) and response, extensions applied (setup/5_clocks.sql).
-- Scoped like the KPI of the same clock: by the case's or complaint's home and team.
-- order by: as_of, due_by, id, clock
with window_ends as (
    select
        as_of,
        week_end,
        end_of_day(working_day_deadline('due_soon_window', as_of)) as window_end
    from reporting_weeks($as_of_dates)
),

open_cases as (
    select *
    from dm_cases_open_at($as_of_dates) as c
    where in_scope(c.region, c.team_id, $scope_region, cast($scope_teams as varchar[]))
),

open_complaints as (
    select *
    from complaints_open_at($as_of_dates) as c
    where in_scope(c.region, c.team_id, $scope_region, cast($scope_teams as varchar[]))
),

damp_mould_clocks as (
    select
        o.as_of,
        o.week_end,
        'damp_mould_case' as kind,
        o.case_id as id,
        k.clock,
        k.due_by,
        o.property_id,
        o.region,
        o.area,
        o.team_id,
        k.started_at,
        belongs_to_vulnerable_household(o.household_id, o.property_id, o.reported_at, o.as_of)
            as is_vulnerable_household
    from open_cases as o
    inner join dm_case_clocks as k on k.case_id = o.case_id
    where k.started_at < o.week_end
      and (k.action_at is null or k.action_at >= o.week_end)
),

complaint_clocks_running as (
    select
        as_of,
        week_end,
        'complaint' as kind,
        complaint_id as id,
        'stage' || current_stage || '_acknowledge' as clock,
        end_of_day(ack_due_on) as due_by,
        property_id,
        region,
        area,
        team_id,
        case current_stage when 1 then received_at else stage2_requested_at end as started_at,
        belongs_to_vulnerable_household(household_id, property_id, received_at, as_of) as is_vulnerable_household
    from open_complaints
    where acknowledged_at is null
    union all
    select
        as_of,
        week_end,
        'complaint' as kind,
        complaint_id as id,
        'stage' || current_stage || '_respond' as clock,
        end_of_day(response_due_on) as due_by,
        property_id,
        region,
        area,
        team_id,
        coalesce(acknowledged_at, case current_stage when 1 then received_at else stage2_requested_at end),
        belongs_to_vulnerable_household(household_id, property_id, received_at, as_of)
    from open_complaints
),

running as (
    select * from damp_mould_clocks
    union all
    select * from complaint_clocks_running
),

final as (
    select
        r.as_of,
        r.id,
        r.kind,
        r.clock,
        r.due_by,
        cast(r.due_by as date) as due_on,
        r.team_id,
        r.property_id,
        r.region,
        r.area,
        r.started_at,
        r.is_vulnerable_household
    from running as r
    inner join window_ends as w on w.as_of = r.as_of
    where r.due_by >= r.week_end
      and r.due_by <= w.window_end
)

select * from final
