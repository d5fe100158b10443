-- One row per stage 1 response given in the week or the financial year to date, per as-of date, in scope.
-- Window: stage1_responded_at in [least(week start, FY start), E); in_week / in_fytd say which.
-- is_on_time (TSM CH02(1)): responded at or before the end of the stage 1 response deadline date that
-- applies at E: 10 working days after the acknowledgement, or after the acknowledgement deadline when
-- no acknowledgement is known at E (none recorded, or recorded at or after E); an agreed extension
-- moves it as complaint_clocks (_setup.sql) says.
-- is_escalated (cx.escalation_rate_fytd_pct): stage 2 requested before E.
-- Withdrawn complaints are counted like any other: the KPIs are defined by the response timestamps.
-- The deadline is taken from received_at as recorded, even in the impossible order of a complaint received
-- after its response (a data-quality warning): the response is in the window, so it is counted.
-- order by: as_of, is_on_time, days_late desc nulls first, stage1_responded_at, id
with weeks as (
    select * from reporting_weeks($as_of_dates)
),

complaints_in_scope as (
    select *
    from stg_complaints as c
    where in_scope(c.region, c.team_id, $scope_region, cast($scope_teams as varchar[]))
),

responses as (
    select
        w.as_of,
        w.week_start,
        w.week_end,
        w.fy_start,
        c.*
    from weeks as w
    inner join complaints_in_scope as c
        on c.stage1_responded_at >= least(w.week_start, w.fy_start)
        and c.stage1_responded_at < w.week_end
),

deadlines as (
    select
        r.*,
        k.stage1_ack_due_on,
        response_due_on(
            r.stage1_acknowledged_at, r.week_end,
            k.stage1_response_due_on_from_ack, k.stage1_response_due_on_from_ack_due
        ) as stage1_response_due_on
    from responses as r
    left join complaint_clocks as k on k.complaint_id = r.complaint_id
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
        stage1_ack_due_on,
        -- Nothing at or after E is known at E.
        case when stage1_acknowledged_at < week_end then stage1_acknowledged_at end as stage1_acknowledged_at,
        stage1_extended_to,
        stage1_response_due_on,
        stage1_responded_at,
        greatest(date_diff('day', stage1_response_due_on, cast(stage1_responded_at as date)), 0) as days_late,
        case when stage2_requested_at < week_end then stage2_requested_at end as stage2_requested_at,
        stage1_responded_at >= week_start as in_week,
        stage1_responded_at >= fy_start as in_fytd,
        coalesce(stage1_responded_at <= end_of_day(stage1_response_due_on), false) as is_on_time,
        coalesce(stage2_requested_at < week_end, false) as is_escalated
    from deadlines
)

select * from final
