-- One row per complaint stage whose acknowledgement deadline falls in the week (D-6 .. D), per as-of
-- date, in scope: id = complaint_id || ':stage1' or ':stage2'. Stage 1: 5 working days after
-- received_at; stage 2: 5 working days after stage2_requested_at, only when stage 2 was requested
-- before E (a stage 2 requested at or after E has not been requested).
-- is_on_time: acknowledged before E and on or before the deadline date. A missing acknowledgement
-- misses it, even when the stage was responded to or the complaint withdrawn in time: the KPI counts
-- acknowledgements, and withdrawal has no timestamp to judge it by.
-- order by: as_of, is_on_time, ack_due_on, stage_started_at, id
with weeks as (
    select * from reporting_weeks($as_of_dates)
),

complaints_in_scope as (
    select *
    from stg_complaints as c
    where in_scope(c.region, c.team_id, $scope_region, cast($scope_teams as varchar[]))
),

stages as (
    select
        c.*,
        1 as stage,
        c.received_at as stage_started_at,
        k.stage1_ack_due_on as ack_due_on,
        c.stage1_acknowledged_at as acknowledged_at
    from complaints_in_scope as c
    inner join complaint_clocks as k on k.complaint_id = c.complaint_id
    union all by name
    select
        c.*,
        2 as stage,
        c.stage2_requested_at as stage_started_at,
        k.stage2_ack_due_on as ack_due_on,
        c.stage2_acknowledged_at as acknowledged_at
    from complaints_in_scope as c
    inner join complaint_clocks as k on k.complaint_id = c.complaint_id
    where c.stage2_requested_at is not null
),

due_in_week as (
    select
        w.as_of,
        w.week_end,
        s.*
    from weeks as w
    inner join stages as s
        on s.ack_due_on between w.as_of - 6 and w.as_of
        and s.stage_started_at < w.week_end
),

final as (
    select
        as_of,
        complaint_id || ':stage' || stage as id,
        complaint_id,
        stage,
        property_id,
        region,
        area,
        team_id,
        category,
        received_at,
        stage_started_at,
        ack_due_on,
        -- Nothing at or after E is known at E.
        case when acknowledged_at < week_end then acknowledged_at end as acknowledged_at,
        coalesce(acknowledged_at < week_end and cast(acknowledged_at as date) <= ack_due_on, false) as is_on_time
    from due_in_week
)

select * from final
