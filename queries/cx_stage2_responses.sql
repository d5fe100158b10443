-- One row per stage 2 response given in the week or the financial year to date, per as-of date, in scope.
-- Window: stage2_responded_at in [least(week start, FY start), E); in_week / in_fytd say which.
-- is_on_time (TSM CH02(2)): responded at or before the end of the stage 2 response deadline date that
-- applies at E: 20 working days after the stage 2 acknowledgement, or after the acknowledgement deadline
-- when no acknowledgement is known at E; an agreed extension moves it as complaint_clocks (_setup.sql) says.
-- A response whose stage 2 request is missing or recorded at or after E (an impossible order, a
-- data-quality warning) is still counted, as the response is in the window, but has no stage 2 deadline
-- at E (a stage 2 requested at or after E has not been requested), so it is not on time.
-- order by: as_of, is_on_time, days_late desc nulls first, stage2_responded_at, id
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
        on c.stage2_responded_at >= least(w.week_start, w.fy_start)
        and c.stage2_responded_at < w.week_end
),

deadlines as (
    select
        r.* replace (case when r.stage2_requested_at < r.week_end then r.stage2_requested_at end
            as stage2_requested_at),
        case when r.stage2_requested_at < r.week_end then k.stage2_ack_due_on end as stage2_ack_due_on,
        case when r.stage2_requested_at < r.week_end then response_due_on(
            r.stage2_acknowledged_at, r.week_end,
            k.stage2_response_due_on_from_ack, k.stage2_response_due_on_from_ack_due
        ) end as stage2_response_due_on
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
        stage2_requested_at,
        stage2_ack_due_on,
        -- Nothing at or after E is known at E.
        case when stage2_acknowledged_at < week_end then stage2_acknowledged_at end as stage2_acknowledged_at,
        stage2_extended_to,
        stage2_response_due_on,
        stage2_responded_at,
        greatest(date_diff('day', stage2_response_due_on, cast(stage2_responded_at as date)), 0) as days_late,
        stage2_responded_at >= week_start as in_week,
        stage2_responded_at >= fy_start as in_fytd,
        coalesce(stage2_responded_at <= end_of_day(stage2_response_due_on), false) as is_on_time
    from deadlines
)

select * from final
